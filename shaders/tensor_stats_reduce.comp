#version 450
// Pass 2 of ops::tensor_stats: combines n pass-1 partials (6 floats each) into o[0..8): min, max, sum, then
// NaN, Inf and finite counts as uint bits, and two zero pads (32 bytes: the only read-back). One workgroup.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float part[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n, base; } p;
shared float s_min[256], s_max[256], s_sum[256];
shared uint s_nan[256], s_inf[256], s_fin[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float mn = uintBitsToFloat(0x7f800000u), mx = -mn, sm = 0.0;
  uint nan_n = 0u, inf_n = 0u, fin_n = 0u;
  for (uint i = t; i < p.n; i += gl_WorkGroupSize.x) {
    uint b = p.base + 6u * i;
    mn = min(mn, part[b]);
    mx = max(mx, part[b + 1u]);
    sm += part[b + 2u];
    nan_n += floatBitsToUint(part[b + 3u]);
    inf_n += floatBitsToUint(part[b + 4u]);
    fin_n += floatBitsToUint(part[b + 5u]);
  }
  s_min[t] = mn; s_max[t] = mx; s_sum[t] = sm;
  s_nan[t] = nan_n; s_inf[t] = inf_n; s_fin[t] = fin_n;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1u) {
    if (t < h) {
      s_min[t] = min(s_min[t], s_min[t + h]);
      s_max[t] = max(s_max[t], s_max[t + h]);
      s_sum[t] += s_sum[t + h];
      s_nan[t] += s_nan[t + h];
      s_inf[t] += s_inf[t + h];
      s_fin[t] += s_fin[t + h];
    }
    barrier();
  }
  if (t == 0u) {
    o[0] = s_min[0]; o[1] = s_max[0]; o[2] = s_sum[0];
    o[3] = uintBitsToFloat(s_nan[0]);
    o[4] = uintBitsToFloat(s_inf[0]);
    o[5] = uintBitsToFloat(s_fin[0]);
    o[6] = 0.0; o[7] = 0.0;
  }
}
