#version 450
#extension GL_GOOGLE_include_directive : require
// Numerically stable softmax over rows (one workgroup per row): online max/sum pass, then write pass.
//! variant f16 -DDTYPE_F16
layout(local_size_x_id = 0) in;  // before the includes (see wg_reduce.glsl)
#include "types.glsl"
#include "pmath.glsl"
#include "wg_reduce.glsl"
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) writeonly buffer Y { STYPE y[]; };
layout(push_constant) uniform P { uint rows, row_len, first_x, first_y; } p;

void main() {
  uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  uint t = gl_LocalInvocationID.x;
  uint base = p.first_x + row * p.row_len;
  float m = -3.0e38, s = 0.0;
  for (uint j = t; j < p.row_len; j += gl_WorkGroupSize.x) {
    float v = float(x[base + j]);
    if (v > m) {
      s = s * exp_p(m - v) + 1.0;
      m = v;
    } else {
      s += exp_p(v - m);
    }
  }
  wg_maxsum(m, s);
  float inv = 1.0 / s;
  uint ybase = p.first_y + row * p.row_len;
  for (uint j = t; j < p.row_len; j += gl_WorkGroupSize.x) y[ybase + j] = STYPE(exp_p(float(x[base + j]) - m) * inv);
}
