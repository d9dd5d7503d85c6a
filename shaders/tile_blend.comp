#version 450
#extension GL_GOOGLE_include_directive : require
// Tiled VAE: mode 0 accumulates a tile [B,C,th,tw] into out [B,C,H,W] at (oy,ox) with a feathered
// weight (linear ramps over `feather` pixels on sides that overlap a neighbour), also summing weights
// into wsum [H,W]; mode 1 divides out by wsum. Out/wsum are f32 accumulators.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer T { STYPE tile[]; };
layout(std430, binding = 1) buffer O { float acc[]; };
layout(std430, binding = 2) buffer WS { float wsum[]; };
layout(push_constant) uniform P { uint B, C, H, W, th, tw, oy, ox, feather, edges, mode; } p;  // edges: 1 top,2 bottom,4 left,8 right

float ramp(uint d) { return p.feather == 0u ? 1.0 : min(1.0, (float(d) + 0.5) / float(p.feather)); }

void main() {
  uint i = linear_id();
  if (p.mode == 1u) {
    if (i >= p.B * p.C * p.H * p.W) return;
    uint yx = i % (p.H * p.W);
    acc[i] = acc[i] / max(wsum[yx], 1e-8);
    return;
  }
  if (i >= p.B * p.C * p.th * p.tw) return;
  uint x = i % p.tw, y = (i / p.tw) % p.th, c = (i / (p.tw * p.th)) % p.C, b = i / (p.tw * p.th * p.C);
  float w = 1.0;
  if ((p.edges & 1u) != 0u) w *= ramp(y);
  if ((p.edges & 2u) != 0u) w *= ramp(p.th - 1u - y);
  if ((p.edges & 4u) != 0u) w *= ramp(x);
  if ((p.edges & 8u) != 0u) w *= ramp(p.tw - 1u - x);
  uint gy = p.oy + y, gx = p.ox + x;
  acc[((b * p.C + c) * p.H + gy) * p.W + gx] += w * float(tile[i]);
  if (b == 0u && c == 0u) wsum[gy * p.W + gx] += w;
}
