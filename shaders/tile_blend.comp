#version 450
#extension GL_GOOGLE_include_directive : require
// Tiled VAE: mode 0 accumulates a tile [B,C,th,tw] into out [B,C,H,W] at (oy,ox) with a feathered
// weight (linear ramps over `feather` pixels on sides that overlap a neighbour), also summing weights
// into wsum [H,W]; mode 1 divides out by wsum. Out/wsum are f32 accumulators.
// Chunked: mode 0 covers nbc planes (first plane bc0) x tile rows [y0, y0+nr); tile/acc/wsum bindings
// start at that block's first element (tile row y0, acc/wsum row oy+y0 col ox). Mode 1 covers n elements
// of acc; the wsum binding repeats every `plane` elements (whole H*W, or the band's rows).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer T { STYPE tile[]; };
layout(std430, binding = 1) buffer O { float acc[]; };
layout(std430, binding = 2) buffer WS { float wsum[]; };
layout(push_constant) uniform P {
  uint n, H, W, th, tw, y0, nr, bc0, feather, edges, mode, plane, first_tile, first_acc, first_w;  // edges: 1 top,2 bottom,4 left,8 right
} p;

float ramp(uint d) { return p.feather == 0u ? 1.0 : min(1.0, (float(d) + 0.5) / float(p.feather)); }

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  if (p.mode == 1u) {
    acc[p.first_acc + i] = acc[p.first_acc + i] / max(wsum[p.first_w + i % p.plane], 1e-8);
    return;
  }
  uint x = i % p.tw, yl = (i / p.tw) % p.nr, bc = i / (p.tw * p.nr), y = p.y0 + yl;
  float w = 1.0;
  if ((p.edges & 1u) != 0u) w *= ramp(y);
  if ((p.edges & 2u) != 0u) w *= ramp(p.th - 1u - y);
  if ((p.edges & 4u) != 0u) w *= ramp(x);
  if ((p.edges & 8u) != 0u) w *= ramp(p.tw - 1u - x);
  acc[p.first_acc + (bc * p.H + yl) * p.W + x] += w * float(tile[p.first_tile + (bc * p.th + yl) * p.tw + x]);
  if (p.bc0 + bc == 0u) wsum[p.first_w + yl * p.W + x] += w;
}
