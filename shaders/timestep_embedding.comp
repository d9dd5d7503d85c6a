#version 450
#extension GL_GOOGLE_include_directive : require
// ldm timestep_embedding: freqs[k] = exp(-ln(max_period) * k / half), a = t * freqs[k],
// out = [cos(a), sin(a)] (cos first), zero column last when dim is odd. Same fp32 operation order as
// the PyTorch reference; exp/sin/cos from pmath.glsl (accurate for arguments up to ~8000).
//! variant f16 -DDTYPE_F16
#include "types.glsl"
#include "pmath.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer T { float ts[]; };
layout(std430, binding = 1) writeonly buffer O { STYPE o[]; };
layout(push_constant) uniform P { uint n, dim, half_dim, first_t, first_o; float neg_log_period; } p;

void main() {
  uint i = linear_id();
  if (i >= p.n) return;
  uint b = i / p.dim, j = i - b * p.dim;
  float r = 0.0;
  if (j < 2u * p.half_dim) {
    uint k = j < p.half_dim ? j : j - p.half_dim;
    precise float e = (p.neg_log_period * float(k)) / float(p.half_dim);
    precise float a = ts[p.first_t + b] * exp_p(e);
    float s, c;
    sincos_p(a, s, c);
    r = j < p.half_dim ? c : s;
  }
  o[p.first_o + i] = STYPE(r);
}
