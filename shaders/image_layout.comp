#version 450
#extension GL_GOOGLE_include_directive : require
// Converts between IMAGE [B,H,W,C] in [0,1] and VAE pixels [B,C,H,W] in [-1,1].
// mode 0: NCHW (any dtype) -> BHWC f32, (x+1)/2 clamped to [0,1]   (VAE decode output)
// mode 1: BHWC f32 (window y0,x0 of size H,W, first C channels) -> NCHW, 2x-1 (VAE encode input)
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer NI { STYPE nchw_in[]; };
layout(std430, binding = 1) readonly buffer II { float bhwc_in[]; };
layout(std430, binding = 2) writeonly buffer NO { STYPE nchw_out[]; };
layout(std430, binding = 3) writeonly buffer IO { float bhwc_out[]; };
layout(push_constant) uniform P { uint B, C, H, W, mode, srcH, srcW, srcC, y0, x0; } p;

void main() {
  uint i = linear_id();
  if (i >= p.B * p.C * p.H * p.W) return;
  if (p.mode == 0u) {  // i indexes BHWC output
    uint c = i % p.C, x = (i / p.C) % p.W, y = (i / (p.C * p.W)) % p.H, b = i / (p.C * p.W * p.H);
    float v = float(nchw_in[((b * p.C + c) * p.H + y) * p.W + x]);
    bhwc_out[i] = clamp((v + 1.0) * 0.5, 0.0, 1.0);
  } else {  // i indexes NCHW output
    uint x = i % p.W, y = (i / p.W) % p.H, c = (i / (p.W * p.H)) % p.C, b = i / (p.W * p.H * p.C);
    float v = bhwc_in[((b * p.srcH + y + p.y0) * p.srcW + x + p.x0) * p.srcC + c];
    nchw_out[i] = STYPE(v * 2.0 - 1.0);
  }
}
