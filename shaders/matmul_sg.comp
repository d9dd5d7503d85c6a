#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_ballot : enable
// GEMM with transposed B, C[b] (+)= A[b] (MxK) * B[b]^T (B is NxK) (+ bias over N or M), for CPU Vulkan
// (lavapipe), where a load whose address differs per lane is a per-lane loop and FMAs per loaded element
// decide the speed. A workgroup is exactly one subgroup of L lanes and owns TM rows of A x L*TN rows of B.
// Per 4 steps of K a lane loads TN vec4 of its own B rows and TM/L vec4 of A; the other lanes' A rows
// arrive by subgroupBroadcast (a register shuffle, not a load), so every loaded B element feeds TM FMAs.
// The push constants and flags are those of matmul.comp (shared host code in engine/ops/gemm.cpp).
// TEX: A and B are read as RGBA32F/RGBA16F storage texel buffers over their whole buffers (oa/ob count from
// the buffer's start; rows 4-element aligned): lavapipe turns an imageLoad into one vector gather, where a
// storage-buffer load is a loop over the lanes with a bounds check each (~4x the cost per vec4).
//! variant f16 -DDTYPE_F16
//! variant tex -DTEX
//! variant f16_tex -DF16_TEX
#ifdef F16_TEX  // one define per variant (see matmul.comp)
#define DTYPE_F16
#define TEX
#endif
layout(local_size_x_id = 0) in;  // must equal the subgroup size
#include "types.glsl"
#ifdef DTYPE_F16
#define SVEC4 f16vec4
#else
#define SVEC4 vec4
#endif
layout(constant_id = 3) const uint TM = 16;  // rows of A per workgroup (a multiple of L)
layout(constant_id = 4) const uint TN = 16;  // rows of B (columns of C) per lane
layout(constant_id = 6) const uint VEC = 4;  // 4: vec4 loads along K (rows 16-byte aligned); 1: scalar

#ifdef TEX
#ifdef DTYPE_F16
layout(binding = 0, rgba16f) uniform readonly imageBuffer At;
layout(binding = 1, rgba16f) uniform readonly imageBuffer Bt;
#else
layout(binding = 0, rgba32f) uniform readonly imageBuffer At;
layout(binding = 1, rgba32f) uniform readonly imageBuffer Bt;
#endif
#define A_AT(e) imageLoad(At, int((e) >> 2))[(e) & 3u]
#define B_AT(e) imageLoad(Bt, int((e) >> 2))[(e) & 3u]
#else
layout(std430, binding = 0) readonly buffer A1 { STYPE a1[]; };
layout(std430, binding = 0) readonly buffer A4 { SVEC4 a4[]; };
layout(std430, binding = 1) readonly buffer B1 { STYPE b1[]; };
layout(std430, binding = 1) readonly buffer B4 { SVEC4 b4[]; };
#define A_AT(e) float(a1[e])
#define B_AT(e) float(b1[e])
#endif
layout(std430, binding = 2) buffer C1 { STYPE c1[]; };
layout(std430, binding = 3) readonly buffer Bias { STYPE bias[]; };
layout(push_constant) uniform P {
  uint M, N, K, lda, ldb, ldc, sa, sb, sc, oa, ob, oc, obias;
  uint flags;  // bit 0: bias per column (N), bit 1: bias per row (M), bit 2: accumulate into C
} p;

#ifdef TEX
vec4 ldA(uint e) { return imageLoad(At, int(e >> 2)); }  // the host uses TEX only with VEC == 4
vec4 ldB(uint e) { return imageLoad(Bt, int(e >> 2)); }
#else
vec4 ldA(uint e) {
  if (VEC == 4) return vec4(a4[e >> 2]);
  return vec4(float(a1[e]), float(a1[e + 1]), float(a1[e + 2]), float(a1[e + 3]));
}
vec4 ldB(uint e) {
  if (VEC == 4) return vec4(b4[e >> 2]);
  return vec4(float(b1[e]), float(b1[e + 1]), float(b1[e + 2]), float(b1[e + 3]));
}
#endif

void main() {
  const uint L = gl_WorkGroupSize.x, S = TM / L;
  uint lane = gl_SubgroupInvocationID;
  uint m0 = gl_WorkGroupID.y * TM, n0 = (gl_WorkGroupID.x * L + lane) * TN;
  uint abase = p.oa + gl_WorkGroupID.z * p.sa, bbase = p.ob + gl_WorkGroupID.z * p.sb;
  uint K = p.K, K4 = K & ~3u;
  // Clamped row starts: rows past M or N compute garbage that is never stored.
  uint arow[S];
  [[unroll]] for (uint s = 0; s < S; ++s) arow[s] = abase + min(m0 + s * L + lane, p.M - 1) * p.lda;
  uint brow[TN];
  [[unroll]] for (uint t = 0; t < TN; ++t) brow[t] = bbase + min(n0 + t, p.N - 1) * p.ldb;
  float acc[TM * TN];
  [[unroll]] for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

  for (uint k = 0; k < K4; k += 4) {
    vec4 a[S], b[TN];
    [[unroll]] for (uint s = 0; s < S; ++s) a[s] = ldA(arow[s] + k);
    [[unroll]] for (uint t = 0; t < TN; ++t) b[t] = ldB(brow[t] + k);
    [[unroll]] for (uint s = 0; s < S; ++s)
      [[unroll]] for (uint l = 0; l < L; ++l) {
        vec4 av = subgroupBroadcast(a[s], l);
        [[unroll]] for (uint t = 0; t < TN; ++t) {
          float v = acc[(s * L + l) * TN + t];
          v = fma(av.x, b[t].x, v);
          v = fma(av.y, b[t].y, v);
          v = fma(av.z, b[t].z, v);
          acc[(s * L + l) * TN + t] = fma(av.w, b[t].w, v);
        }
      }
  }
  for (uint k = K4; k < K; ++k) {  // K tail
    float a[S], b[TN];
    [[unroll]] for (uint s = 0; s < S; ++s) a[s] = A_AT(arow[s] + k);
    [[unroll]] for (uint t = 0; t < TN; ++t) b[t] = B_AT(brow[t] + k);
    [[unroll]] for (uint s = 0; s < S; ++s)
      [[unroll]] for (uint l = 0; l < L; ++l) {
        float av = subgroupBroadcast(a[s], l);
        [[unroll]] for (uint t = 0; t < TN; ++t) acc[(s * L + l) * TN + t] = fma(av, b[t], acc[(s * L + l) * TN + t]);
      }
  }
  uint cbase = p.oc + gl_WorkGroupID.z * p.sc;
  [[unroll]] for (uint i = 0; i < TM; ++i) {
    uint m = m0 + i;
    if (m >= p.M) break;  // uniform
    [[unroll]] for (uint t = 0; t < TN; ++t) {
      uint n = n0 + t;
      if (n < p.N) {
        float v = acc[i * TN + t];
        if ((p.flags & 1u) != 0) v += float(bias[p.obias + n]);
        if ((p.flags & 2u) != 0) v += float(bias[p.obias + m]);
        uint o = cbase + m * p.ldc + n;
        if ((p.flags & 4u) != 0) v += float(c1[o]);
        c1[o] = STYPE(v);
      }
    }
  }
}
