#version 450
#extension GL_GOOGLE_include_directive : require
// out [BC,h,w] = in [BC,H,W][:, y0:y0+h, x0:x0+w]; a dispatch covers nbc planes x nr rows, the source
// binding starting at row y0 (+ band start) of its first plane, x0 applied here.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer I { STYPE src[]; };
layout(std430, binding = 1) writeonly buffer O { STYPE dst[]; };
layout(push_constant) uniform P { uint n, nr, H, W, w, x0, first_src, first_dst; } p;
void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint x = i % p.w, y = (i / p.w) % p.nr, bc = i / (p.w * p.nr);
  dst[p.first_dst + i] = src[p.first_src + (bc * p.H + y) * p.W + x + p.x0];
}
