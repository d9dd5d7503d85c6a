#version 450
#extension GL_GOOGLE_include_directive : require
// GEGLU: rows of 2N -> rows of N, y = value * gelu(gate) with value = first half, gate = second half
// (diffusers/ldm GEGLU: proj(x).chunk(2, dim=-1) -> x, gate).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
#include "pmath.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) writeonly buffer Y { STYPE y[]; };
layout(push_constant) uniform P { uint n, half_n, first_x, first_y; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint r = i / p.half_n, c = i - r * p.half_n;
  uint base = p.first_x + r * 2u * p.half_n + c;
  float value = float(x[base]), gate = float(x[base + p.half_n]);
  y[p.first_y + i] = STYPE(value * gelu_erf(gate));
}
