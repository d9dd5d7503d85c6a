#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
// Batched strided GEMM C[b] (+)= A[b] (MxK) * B[b] (KxN, or NxK with TRANS_B) (+ bias over N or over M), fp32
// accumulation; leading dimensions lda/ldb/ldc and element offsets oa/ob/oc let callers (conv2d, chunking
// over the 128 MiB binding limit) address sub-blocks of bigger tensors.
// Register blocking: each invocation owns TM rows x 4*TN4 columns (vec4 accumulators) and streams K in
// chunks of 4 with vec4 loads (VEC=4, needs 16-byte aligned rows) or scalar loads (VEC=1). Data is read
// straight from the storage buffers: on lavapipe every non-uniform load is a per-lane loop, so what counts
// is FMAs per loaded element (TM*TN/(TM+TN)), not shared-memory reuse; caches serve the reuse on CPUs.
//! variant f16 -DDTYPE_F16
//! variant tb -DTRANS_B
//! variant f16_tb -DF16_TB
#ifdef F16_TB  // one define: shaders.cmake splits a variant's define list wrongly when it has two
#define DTYPE_F16
#define TRANS_B
#endif
#include "types.glsl"
#ifdef DTYPE_F16
#define SVEC4 f16vec4
#else
#define SVEC4 vec4
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint TM = 4;   // rows per invocation
layout(constant_id = 4) const uint TN4 = 2;  // groups of 4 columns per invocation
layout(constant_id = 5) const uint WN = 8;   // invocations along N (local_size_x / WN along M)
layout(constant_id = 6) const uint VEC = 4;  // 4: vec4 loads along K (A, B^T) / N (B); 1: scalar loads

layout(std430, binding = 0) readonly buffer A1 { STYPE a1[]; };
layout(std430, binding = 0) readonly buffer A4 { SVEC4 a4[]; };
layout(std430, binding = 1) readonly buffer B1 { STYPE b1[]; };
layout(std430, binding = 1) readonly buffer B4 { SVEC4 b4[]; };
layout(std430, binding = 2) buffer C1 { STYPE c1[]; };
layout(std430, binding = 3) readonly buffer Bias { STYPE bias[]; };
layout(push_constant) uniform P {
  uint M, N, K, lda, ldb, ldc, sa, sb, sc, oa, ob, oc, obias;
  uint flags;  // bit 0: bias per column (N), bit 1: bias per row (M), bit 2: accumulate into C
} p;

vec4 ldA(uint e) {  // A[e..e+3], e a multiple of 4 when VEC == 4
  if (VEC == 4) return vec4(a4[e >> 2]);
  return vec4(float(a1[e]), float(a1[e + 1]), float(a1[e + 2]), float(a1[e + 3]));
}
vec4 ldB(uint e) {
  if (VEC == 4) return vec4(b4[e >> 2]);
  return vec4(float(b1[e]), float(b1[e + 1]), float(b1[e + 2]), float(b1[e + 3]));
}

void main() {
  const uint WM = gl_WorkGroupSize.x / WN;
  uint lid = gl_LocalInvocationID.x, wn = lid % WN, wm = lid / WN;
  uint m0 = gl_WorkGroupID.y * (WM * TM) + wm, n0 = gl_WorkGroupID.x * (WN * TN4 * 4) + 4 * wn;
  uint K = p.K, N = p.N, K4 = K & ~3u;
  uint abase = p.oa + gl_WorkGroupID.z * p.sa, bbase = p.ob + gl_WorkGroupID.z * p.sb;
  uint arow[TM];  // clamped row starts: out-of-range rows compute garbage that is never stored
  [[unroll]] for (uint i = 0; i < TM; ++i) arow[i] = abase + min(m0 + WM * i, p.M - 1) * p.lda;
  uint bcol[TN4];  // first column of each group of 4 (clamped into range)
  [[unroll]] for (uint j = 0; j < TN4; ++j) bcol[j] = min(n0 + 4 * WN * j, N > 4 ? N - 4 : 0);
  vec4 acc[TM * TN4];
  [[unroll]] for (uint t = 0; t < TM * TN4; ++t) acc[t] = vec4(0);

  for (uint k = 0; k < K4; k += 4) {
    vec4 a[TM];
    [[unroll]] for (uint i = 0; i < TM; ++i) a[i] = ldA(arow[i] + k);
#ifdef TRANS_B
    [[unroll]] for (uint j = 0; j < TN4; ++j) {
      [[unroll]] for (uint q = 0; q < 4; ++q) {
        vec4 b = ldB(bbase + min(bcol[j] + q, N - 1) * p.ldb + k);
        [[unroll]] for (uint i = 0; i < TM; ++i) {
          float s = acc[i * TN4 + j][q];
          s = fma(a[i].x, b.x, s); s = fma(a[i].y, b.y, s); s = fma(a[i].z, b.z, s);
          acc[i * TN4 + j][q] = fma(a[i].w, b.w, s);
        }
      }
    }
#else
    [[unroll]] for (uint c = 0; c < 4; ++c) {
      [[unroll]] for (uint j = 0; j < TN4; ++j) {
        uint r = bbase + (k + c) * p.ldb;
        vec4 b = N >= 4 ? ldB(r + bcol[j])
                        : vec4(float(b1[r]), float(b1[r + min(1u, N - 1)]), float(b1[r + min(2u, N - 1)]), 0.0);
        [[unroll]] for (uint i = 0; i < TM; ++i) acc[i * TN4 + j] = fma(vec4(a[i][c]), b, acc[i * TN4 + j]);
      }
    }
#endif
  }
  for (uint k = K4; k < K; ++k) {  // K tail (K not a multiple of 4)
    [[unroll]] for (uint j = 0; j < TN4; ++j) {
      [[unroll]] for (uint q = 0; q < 4; ++q) {
        uint n = min(bcol[j] + q, N - 1);
#ifdef TRANS_B
        float b = float(b1[bbase + n * p.ldb + k]);
#else
        float b = float(b1[bbase + k * p.ldb + n]);
#endif
        [[unroll]] for (uint i = 0; i < TM; ++i) acc[i * TN4 + j][q] += float(a1[arow[i] + k]) * b;
      }
    }
  }
  // Store: column groups were clamped, so recompute the true column of each accumulator lane.
  uint cbase = p.oc + gl_WorkGroupID.z * p.sc;
  [[unroll]] for (uint i = 0; i < TM; ++i) {
    uint m = m0 + WM * i;
    if (m >= p.M) break;
    [[unroll]] for (uint j = 0; j < TN4; ++j) {
      uint want = n0 + 4 * WN * j;
      if (want >= N) break;
      [[unroll]] for (uint q = 0; q < 4; ++q) {
        uint n = want + q, src = n - bcol[j];  // lane of acc holding column n
        if (n < N) {
          float v = acc[i * TN4 + j][src & 3u];
          if ((p.flags & 1u) != 0) v += float(bias[p.obias + n]);
          if ((p.flags & 2u) != 0) v += float(bias[p.obias + m]);
          uint o = cbase + m * p.ldc + n;
          if ((p.flags & 4u) != 0) v += float(c1[o]);
          c1[o] = STYPE(v);
        }
      }
    }
  }
}
