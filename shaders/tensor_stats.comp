#version 450
#extension GL_GOOGLE_include_directive : require
// Pass 1 of ops::tensor_stats: per workgroup, over the finite elements of x (F32 or F16 storage): min, max,
// sum, and the NaN / Inf / finite counts, written as 6 floats at part[base + 6 * (out_index + g)] (counts as their
// uint bits). Non-finite values are told apart on the bits, as in nonfinite_count: drivers may fold isnan
// away. Pass 2 (tensor_stats_reduce) combines every workgroup's and chunk's partials.
//! variant f16 -DDTYPE_F16
#include "types.glsl"
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { STYPE x[]; };
layout(std430, binding = 1) writeonly buffer O { float part[]; };
layout(push_constant) uniform P { uint n, first, base, out_index, stride; } p;
shared float s_min[256], s_max[256], s_sum[256];
shared uint s_nan[256], s_inf[256], s_fin[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float mn = uintBitsToFloat(0x7f800000u), mx = -mn, sm = 0.0;
  uint nan_n = 0u, inf_n = 0u, fin_n = 0u;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += p.stride) {
    float v = float(x[p.first + i]);
    uint b = floatBitsToUint(v);
    if ((b & 0x7f800000u) == 0x7f800000u) {
      if ((b & 0x007fffffu) != 0u) nan_n++;
      else inf_n++;
    } else {
      mn = min(mn, v);
      mx = max(mx, v);
      sm += v;
      fin_n++;
    }
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
    uint o = p.base + 6u * (p.out_index + gl_WorkGroupID.x);
    part[o] = s_min[0]; part[o + 1u] = s_max[0]; part[o + 2u] = s_sum[0];
    part[o + 3u] = uintBitsToFloat(s_nan[0]);
    part[o + 4u] = uintBitsToFloat(s_inf[0]);
    part[o + 5u] = uintBitsToFloat(s_fin[0]);
  }
}
