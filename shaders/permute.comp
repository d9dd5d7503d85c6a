#version 450
#extension GL_GOOGLE_include_directive : require
// out[c0..c4] = in[sum c_d * stride[d]] where stride = the input strides taken in output-axis order.
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { CTYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, first_src, first_dst; uint shape[5]; uint stride[5]; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint rem = i, j = 0u;
  for (int d = 4; d >= 0; --d) {
    uint q = rem / p.shape[d];
    j += (rem - q * p.shape[d]) * p.stride[d];
    rem = q;
  }
  dst[p.first_dst + i] = src[p.first_src + j];
}
