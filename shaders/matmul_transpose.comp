#version 450
#extension GL_GOOGLE_include_directive : require
// dst[b][n][k] = src[b][k][n]: repacks a row-major B (KxN) as B^T so the GEMM streams contiguous rows of
// it. On CPUs a column strip of a wide B (rows 4 KiB apart) thrashes one cache set; B^T rows do not.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { STYPE src[]; };
layout(std430, binding = 1) writeonly buffer D { STYPE dst[]; };
layout(push_constant) uniform P { uint K, N, count, soff, doff; } p;  // count = batch*K*N

void main() {
  uint i = linear_id();  // index into dst
  if (i >= p.count) return;
  uint kn = p.K * p.N, b = i / kn, r = i % kn, n = r / p.K, k = r % p.K;
  dst[p.doff + i] = src[p.soff + b * kn + k * p.N + n];
}
