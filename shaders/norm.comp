#version 450
#extension GL_GOOGLE_include_directive : require
// One workgroup per row of row_len contiguous elements; fp32 Welford statistics. MODE 0 normalises
// (GroupNorm: row = (n, group), channel of element j = (row % groups) * cpg + j / inner; LayerNorm: groups
// = 1, cpg = row_len, inner = 1), with optional per-channel affine and fused SiLU. MODE 1 writes the row
// mean, MODE 2 the row variance M2 / divisor.
//! variant f16 -DDTYPE_F16
layout(local_size_x_id = 0) in;  // before the includes (see wg_reduce.glsl)
#include "types.glsl"
#include "pmath.glsl"
#include "wg_reduce.glsl"
layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const bool AFFINE = false;
layout(constant_id = 5) const bool SILU = false;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) readonly buffer W { STYPE w[]; };
layout(std430, binding = 2) readonly buffer B { STYPE bias[]; };
layout(std430, binding = 3) writeonly buffer Y { STYPE y[]; };
layout(push_constant) uniform P {
  uint rows, row_len, row0, groups, cpg, inner;
  uint first_x, first_w, first_b, first_y;
  float eps, divisor;
} p;

void main() {
  uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  uint t = gl_LocalInvocationID.x;
  uint base = p.first_x + row * p.row_len;
  float cnt = 0.0, mean = 0.0, m2 = 0.0;
  for (uint j = t; j < p.row_len; j += gl_WorkGroupSize.x) {
    float v = float(x[base + j]);
    cnt += 1.0;
    float d = v - mean;
    mean += d / cnt;
    m2 += d * (v - mean);
  }
  wg_welford(cnt, mean, m2);
  if (MODE == 1) {
    if (t == 0u) y[p.first_y + row] = STYPE(mean);
    return;
  }
  if (MODE == 2) {
    if (t == 0u) y[p.first_y + row] = STYPE(m2 / p.divisor);
    return;
  }
  float inv = 1.0 / sqrt(m2 / float(p.row_len) + p.eps);
  uint ch0 = ((p.row0 + row) % p.groups) * p.cpg;
  uint ybase = p.first_y + row * p.row_len;
  for (uint j = t; j < p.row_len; j += gl_WorkGroupSize.x) {
    float v = (float(x[base + j]) - mean) * inv;
    if (AFFINE) {
      uint ch = ch0 + j / p.inner;
      v = v * float(w[p.first_w + ch]) + float(bias[p.first_b + ch]);
    }
    if (SILU) v *= sigmoid_p(v);
    y[ybase + j] = STYPE(v);
  }
}
