#version 450
#extension GL_GOOGLE_include_directive : require
// out [B,C,h,w] = in [B,C,H,W][:, :, y0:y0+h, x0:x0+w]
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer I { STYPE src[]; };
layout(std430, binding = 1) writeonly buffer O { STYPE dst[]; };
layout(push_constant) uniform P { uint BC, H, W, h, w, y0, x0; } p;
void main() {
  uint i = linear_id();
  if (i >= p.BC * p.h * p.w) return;
  uint x = i % p.w, y = (i / p.w) % p.h, bc = i / (p.w * p.h);
  dst[i] = src[(bc * p.H + y + p.y0) * p.W + x + p.x0];
}
