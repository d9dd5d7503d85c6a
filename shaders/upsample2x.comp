#version 450
#extension GL_GOOGLE_include_directive : require
// Nearest-neighbour x2 upsampling of [planes, H, W]: each invocation reads one input and writes its 2x2.
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { CTYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, h, w, first_src, first_dst; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint row = i / p.w, x = i - row * p.w;  // row = plane * h + y
  CTYPE v = src[p.first_src + i];
  uint o = p.first_dst + row * 4u * p.w + 2u * x;  // output row 2*row (plane*2h + 2y)
  dst[o] = v;
  dst[o + 1u] = v;
  dst[o + 2u * p.w] = v;
  dst[o + 2u * p.w + 1u] = v;
}
