#version 450
#extension GL_GOOGLE_include_directive : require
// im2col for one chunk of conv2d, stored transposed (the GEMM's B^T, rows of length Kc, streamed along K):
// col[j][kk] = x[ci][iy][ix] of output pixel n0 + j and
// kernel tap kk = ci*kh*kw + ky*kw + kx, zero where the tap falls into the padding. The binding of x starts
// at the chunk's first channel (xoff = element offset within the binding).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) writeonly buffer Col { STYPE col[]; };
layout(push_constant) uniform P { uint Kc, Nc, n0, H, W, Wo, kh, kw, stride, pl, pt, xoff; } p;

void main() {
  uint i = linear_id();
  if (i >= p.Kc * p.Nc) return;
  uint kk = i % p.Kc, n = p.n0 + i / p.Kc;
  uint oy = n / p.Wo, ox = n % p.Wo, khw = p.kh * p.kw;
  uint ci = kk / khw, r = kk % khw, ky = r / p.kw, kx = r % p.kw;
  int iy = int(oy * p.stride + ky) - int(p.pt), ix = int(ox * p.stride + kx) - int(p.pl);
  bool inside = iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
  col[i] = inside ? x[p.xoff + (ci * p.H + uint(iy)) * p.W + uint(ix)] : STYPE(0);
}
