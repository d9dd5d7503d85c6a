#version 450
#extension GL_GOOGLE_include_directive : require
// out[sum c_d * ostride[d]] = in[sum c_d * stride[d]] over the box `shape` (output-axis order), where
// stride = the input strides taken in output-axis order and ostride the output's (a box may be a
// sub-block of the whole permute when the tensors exceed one binding).
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { CTYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, first_src, first_dst; uint shape[5]; uint stride[5]; uint ostride[5]; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint rem = i, j = 0u, k = 0u;
  for (int d = 4; d >= 0; --d) {
    uint q = rem / p.shape[d], c = rem - q * p.shape[d];
    j += c * p.stride[d];
    k += c * p.ostride[d];
    rem = q;
  }
  dst[p.first_dst + k] = src[p.first_src + j];
}
