#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
// Direct (implicit-GEMM) 3x3, stride 1, pad 1 convolution of one image, for CPU Vulkan (lavapipe), where a
// load whose address differs per lane is a per-lane loop and FMAs per loaded element decide the speed.
// A workgroup is exactly one subgroup; it owns TM output channels x L segments of TN consecutive pixels of
// a row. Per input channel a lane loads its 3 x (TN+2) input window once (reused by
// all 3 kx taps and all TM channels) and 9 weights of TM/L channels; the weights of the other lanes'
// channels arrive by subgroupBroadcast (a register shuffle, not a load). Out-of-image taps read a clamped
// address and are zeroed by a select, so no lane-divergent control flow wraps the loads.
// TEX: x and w are read through storage texel views of their whole buffers (xoff/woff count from the
// buffer's start): RGBA for the window's vec4 groups, R for single elements. On lavapipe an imageLoad is
// one vector gather, a storage-buffer load a loop over the lanes.
//! variant f16 -DDTYPE_F16
//! variant tex -DTEX
//! variant f16_tex -DF16_TEX
#ifdef F16_TEX  // one define per variant (see matmul.comp)
#define DTYPE_F16
#define TEX
#endif
#include "types.glsl"
layout(local_size_x_id = 0) in;              // must equal the subgroup size
layout(constant_id = 3) const uint TM = 16;  // output channels per workgroup (a multiple of L)
layout(constant_id = 4) const uint TN = 8;   // output pixels per invocation, along the row
layout(constant_id = 5) const uint VEC = 4;  // 4: vec4 loads of the window interior (W, xoff, TN % 4 == 0)
#ifdef DTYPE_F16
#define SVEC4 f16vec4
#else
#define SVEC4 vec4
#endif

#ifdef TEX
#ifdef DTYPE_F16
layout(binding = 0, rgba16f) uniform readonly imageBuffer Xv;
layout(binding = 1, r16f) uniform readonly imageBuffer Wr;
layout(binding = 4, r16f) uniform readonly imageBuffer Xr;
#else
layout(binding = 0, rgba32f) uniform readonly imageBuffer Xv;
layout(binding = 1, r32f) uniform readonly imageBuffer Wr;
layout(binding = 4, r32f) uniform readonly imageBuffer Xr;
#endif
#define X_AT(e) imageLoad(Xr, int(e)).x
#define X4_AT(e4) imageLoad(Xv, int(e4))
#define W_AT(e) imageLoad(Wr, int(e)).x
#else
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 0) readonly buffer X4 { SVEC4 x4[]; };
layout(std430, binding = 1) readonly buffer Wt { STYPE w[]; };
#define X_AT(e) float(x[e])
#define X4_AT(e4) vec4(x4[e4])
#define W_AT(e) float(w[e])
#endif
layout(std430, binding = 2) buffer Y { STYPE y[]; };
layout(std430, binding = 3) readonly buffer Bias { STYPE bias[]; };
layout(push_constant) uniform P {
  uint C, H, W, CO, tiles_x, xoff, woff, yoff, boff;
  uint flags;  // bit 0: add bias, bit 1: accumulate into y (channel chunks after the first)
  uint ldw;    // weight row stride (total input channels * 9)
} p;

void main() {
  const uint L = gl_WorkGroupSize.x, S = TM / L;
  uint lane = gl_SubgroupInvocationID, co0 = gl_WorkGroupID.y * TM;
  // Lane segments of TN pixels run along rows (tiles_x per row) and continue on the next rows, so narrow
  // images keep every lane busy; a segment past the last row computes zeros and stores nothing.
  uint seg = gl_WorkGroupID.x * L + lane, oy = seg / p.tiles_x;
  int ox0 = int((seg % p.tiles_x) * TN);
  int H = int(p.H), W = int(p.W);
  // Input columns ox0-1 .. ox0+TN of the window: clamped addresses plus an in-image flag.
  uint xcol[TN + 2];
  bool colok[TN + 2];
  [[unroll]] for (uint t = 0; t < TN + 2; ++t) {
    int ix = ox0 - 1 + int(t);
    colok[t] = ix >= 0 && ix < W;
    xcol[t] = uint(clamp(ix, 0, W - 1));
    if (VEC == 4 && t > 0 && t <= TN && (t - 1) % 4 == 0) xcol[t] = uint(clamp(ix, 0, W - 4));
  }
  uint xrow[3];
  bool rowok[3];
  [[unroll]] for (uint ky = 0; ky < 3; ++ky) {
    int iy = int(oy) - 1 + int(ky);
    rowok[ky] = iy >= 0 && iy < H;
    xrow[ky] = p.xoff + uint(clamp(iy, 0, H - 1)) * p.W;
  }
  uint wrow[S];  // this lane's weight rows (clamped: channels past CO compute garbage, never stored)
  [[unroll]] for (uint s = 0; s < S; ++s) wrow[s] = p.woff + min(co0 + s * L + lane, p.CO - 1) * p.ldw;

  float acc[TM * TN];
  [[unroll]] for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;
  const uint HW = p.H * p.W;
  for (uint ci = 0; ci < p.C; ++ci) {
    float xv[3 * (TN + 2)];
    [[unroll]] for (uint ky = 0; ky < 3; ++ky) {
      if (VEC == 4) {  // interior columns ox0 .. ox0+TN-1 as whole in/out vec4 groups (W % 4 == 0)
        [[unroll]] for (uint t = 0; t < TN + 2; t += TN + 1) {
          float v = X_AT(ci * HW + xrow[ky] + xcol[t]);
          xv[ky * (TN + 2) + t] = rowok[ky] && colok[t] ? v : 0.0;
        }
        [[unroll]] for (uint g = 0; g < TN / 4; ++g) {
          vec4 v = X4_AT((ci * HW + xrow[ky] + xcol[1 + 4 * g]) >> 2);
          if (!(rowok[ky] && colok[1 + 4 * g])) v = vec4(0.0);
          [[unroll]] for (uint q = 0; q < 4; ++q) xv[ky * (TN + 2) + 1 + 4 * g + q] = v[q];
        }
      } else {
        [[unroll]] for (uint t = 0; t < TN + 2; ++t) {
          float v = X_AT(ci * HW + xrow[ky] + xcol[t]);
          xv[ky * (TN + 2) + t] = rowok[ky] && colok[t] ? v : 0.0;
        }
      }
    }
    float wv[S * 9];
    [[unroll]] for (uint s = 0; s < S; ++s)
      [[unroll]] for (uint k = 0; k < 9; ++k) wv[s * 9 + k] = W_AT(wrow[s] + ci * 9 + k);
    [[unroll]] for (uint s = 0; s < S; ++s)
      [[unroll]] for (uint l = 0; l < L; ++l) {
        const uint m = s * L + l;
        [[unroll]] for (uint k = 0; k < 9; ++k) {
          float wk = subgroupBroadcast(wv[s * 9 + k], l);
          const uint ky = k / 3, kx = k % 3;
          [[unroll]] for (uint t = 0; t < TN; ++t)
            acc[m * TN + t] = fma(wk, xv[ky * (TN + 2) + t + kx], acc[m * TN + t]);
        }
      }
  }
  [[unroll]] for (uint m = 0; m < TM; ++m) {
    uint co = co0 + m;
    if (co >= p.CO) break;  // uniform
    if (oy >= p.H) continue;
    float b = (p.flags & 1u) != 0 ? float(bias[p.boff + co]) : 0.0;
    [[unroll]] for (uint t = 0; t < TN; ++t) {
      int ox = ox0 + int(t);
      uint o = p.yoff + co * HW + oy * p.W + uint(ox);
      if (ox < W) y[o] = STYPE(acc[m * TN + t] + b + ((p.flags & 2u) != 0 ? float(y[o]) : 0.0));
    }
  }
}
