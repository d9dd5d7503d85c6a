#version 450
#extension GL_GOOGLE_include_directive : require
// Converts between IMAGE [B,H,W,C] in [0,1] and VAE pixels [B,C,H,W] in [-1,1].
// mode 0: NCHW (any dtype) -> BHWC f32, (x+1)/2 clamped to [0,1]   (VAE decode output)
// mode 1: BHWC f32 (window x0.. of width W, channels c0.., rows from the binding start) -> NCHW, 2x-1
// A dispatch covers nb images x nc channels x nr rows x W columns (whole images, or one channel's band
// of rows when an image exceeds a binding); indices are relative to each binding's start (+ first_*).
// C: channel stride of the BHWC output (mode 0); srcH/srcW/srcC: the BHWC source's dims (mode 1).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer NI { STYPE nchw_in[]; };
layout(std430, binding = 1) readonly buffer II { float bhwc_in[]; };
layout(std430, binding = 2) writeonly buffer NO { STYPE nchw_out[]; };
layout(std430, binding = 3) writeonly buffer IO { float bhwc_out[]; };
layout(push_constant) uniform P { uint n, nb, nc, nr, W, C, mode, srcH, srcW, srcC, x0, c0, first_in, first_out; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint x = i % p.W, y = (i / p.W) % p.nr, c = (i / (p.W * p.nr)) % p.nc, b = i / (p.W * p.nr * p.nc);
  if (p.mode == 0u) {
    float v = float(nchw_in[p.first_in + i]);  // i walks the NCHW input in order
    bhwc_out[p.first_out + ((b * p.nr + y) * p.W + x) * p.C + c] = clamp((v + 1.0) * 0.5, 0.0, 1.0);
  } else {
    float v = bhwc_in[p.first_in + ((b * p.srcH + y) * p.srcW + x + p.x0) * p.srcC + p.c0 + c];
    nchw_out[p.first_out + i] = STYPE(v * 2.0 - 1.0);  // i walks the NCHW output in order
  }
}
