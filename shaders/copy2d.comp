#version 450
#extension GL_GOOGLE_include_directive : require
// Strided row copy: dst[r*dst_stride + c] = src[r*src_stride + c] for c < row_len (concat, narrow).
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { CTYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, row_len, src_stride, dst_stride, first_src, first_dst; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint r = i / p.row_len, c = i - r * p.row_len;
  dst[p.first_dst + r * p.dst_stride + c] = src[p.first_src + r * p.src_stride + c];
}
