#version 450
#extension GL_GOOGLE_include_directive : require
// ComfyUI LatentInterpolate: per pixel, normalise both latents over channels, lerp the directions
// (ratio*a + (1-ratio)*b), renormalise, and scale by the lerped norms. Zero norms give 0 (nan_to_num).
// N images of C planes of HW pixels per dispatch, from each binding's start + first_* (NHWC data is
// passed as N*HW images of one pixel).
layout(local_size_x_id = 0) in;
#include "types.glsl"
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint N, C, HW; float ratio; uint first_a, first_b, first_o; } p;

void main() {
  uint i = linear_id();
  if (i >= p.N * p.HW) return;
  uint n = i / p.HW, px = i % p.HW, base = n * p.C * p.HW + px;
  uint ba = base + p.first_a, bb = base + p.first_b, bo = base + p.first_o;
  float ma = 0.0, mb = 0.0;
  for (uint c = 0u; c < p.C; ++c) {
    float va = a[ba + c * p.HW], vb = b[bb + c * p.HW];
    ma += va * va;
    mb += vb * vb;
  }
  ma = sqrt(ma);
  mb = sqrt(mb);
  float mt = 0.0;
  for (uint c = 0u; c < p.C; ++c) {
    float t = (ma > 0.0 ? a[ba + c * p.HW] / ma : 0.0) * p.ratio + (mb > 0.0 ? b[bb + c * p.HW] / mb : 0.0) * (1.0 - p.ratio);
    mt += t * t;
  }
  mt = sqrt(mt);
  float scale = ma * p.ratio + mb * (1.0 - p.ratio);
  for (uint c = 0u; c < p.C; ++c) {
    float t = (ma > 0.0 ? a[ba + c * p.HW] / ma : 0.0) * p.ratio + (mb > 0.0 ? b[bb + c * p.HW] / mb : 0.0) * (1.0 - p.ratio);
    o[bo + c * p.HW] = (mt > 0.0 ? t / mt : 0.0) * scale;
  }
}
