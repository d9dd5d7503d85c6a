#version 450
#extension GL_GOOGLE_include_directive : require
// Pass 1 of ops::dot: part[p.out + g] = sum over this workgroup's elements of a[i] * b[i] (F32 or F16
// storage, fp32 arithmetic). Each thread sums a grid-strided run of elements, then a shared-memory tree
// adds the workgroup's threads. Pass 2 (reduce_sum) adds the partials of every workgroup and chunk.
// `first_*` = element offset of each binding's range (offsets are aligned down when bound).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { STYPE a[]; };
layout(std430, binding = 1) readonly buffer B { STYPE b[]; };
layout(std430, binding = 2) writeonly buffer O { float part[]; };
layout(push_constant) uniform P { uint n, first_a, first_b, out_index, stride; } p;
shared float acc[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float s = 0.0;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += p.stride) s += float(a[p.first_a + i]) * float(b[p.first_b + i]);
  acc[t] = s;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1u) {
    if (t < h) acc[t] += acc[t + h];
    barrier();
  }
  if (t == 0u) part[p.out_index + gl_WorkGroupID.x] = acc[0];
}
