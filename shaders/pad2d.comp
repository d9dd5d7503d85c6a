#version 450
#extension GL_GOOGLE_include_directive : require
// Constant padding (or cropping, for negative pads) of the last two axes of [planes, H, W].
//! variant f16 -DDTYPE_F16
#include "bits.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { CTYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { CTYPE dst[]; };
layout(push_constant) uniform P { uint n, h, w, ho, wo, first_src, first_dst, value_bits; int left, top; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint row = i / p.wo, x = i - row * p.wo;
  uint plane = row / p.ho, y = row - plane * p.ho;
  int ix = int(x) - p.left, iy = int(y) - p.top;
  CTYPE v = CFROMBITS(p.value_bits);
  if (ix >= 0 && iy >= 0 && ix < int(p.w) && iy < int(p.h))
    v = src[p.first_src + (plane * p.h + uint(iy)) * p.w + uint(ix)];
  dst[p.first_dst + i] = v;
}
