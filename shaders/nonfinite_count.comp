#version 450
#extension GL_GOOGLE_include_directive : require
// Counts NaN and Inf elements of x into c[2*slot] (NaN) and c[2*slot+1] (Inf), atomically, so one counter
// buffer can collect a slot per sampler step inside one command buffer and be read back once. Tested on
// the bits, not with isnan(): drivers may fold isnan away under fast-math assumptions.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) buffer C { uint c[]; };
layout(push_constant) uniform P { uint n, first, slot, stride; } p;
shared uint part_nan, part_inf;

void main() {
  if (gl_LocalInvocationIndex == 0u) { part_nan = 0u; part_inf = 0u; }
  barrier();
  uint nan_n = 0u, inf_n = 0u;
  for (uint i = linear_id(); i < p.n; i += p.stride) {
    uint b = floatBitsToUint(float(x[p.first + i]));
    if ((b & 0x7f800000u) == 0x7f800000u) {
      if ((b & 0x007fffffu) != 0u) nan_n++;
      else inf_n++;
    }
  }
  if (nan_n != 0u) atomicAdd(part_nan, nan_n);
  if (inf_n != 0u) atomicAdd(part_inf, inf_n);
  barrier();
  if (gl_LocalInvocationIndex == 0u) {
    if (part_nan != 0u) atomicAdd(c[2u * p.slot], part_nan);
    if (part_inf != 0u) atomicAdd(c[2u * p.slot + 1u], part_inf);
  }
}
