// Workgroup reductions for one-row-per-workgroup kernels (local size a power of two, <= 256).
// Include AFTER `layout(local_size_x_id = 0) in;`: glslang binds gl_WorkGroupSize when a function is
// parsed, so a function parsed earlier sees the default size (1) and silently skips the reduction.
#ifndef VKF_WG_REDUCE_GLSL
#define VKF_WG_REDUCE_GLSL
#include "pmath.glsl"
shared float wg_a[256];
shared float wg_b[256];
shared float wg_c[256];

// Chan et al. parallel combination of (count, mean, M2) partials; returns the totals in every thread.
void wg_welford(inout float cnt, inout float mean, inout float m2) {
  uint t = gl_LocalInvocationID.x;
  wg_a[t] = cnt; wg_b[t] = mean; wg_c[t] = m2;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      float na = wg_a[t], nb = wg_a[t + s], n = na + nb;
      if (nb > 0.0) {
        float d = wg_b[t + s] - wg_b[t];
        float f = nb / n;
        wg_b[t] += d * f;
        wg_c[t] += wg_c[t + s] + d * d * na * f;
        wg_a[t] = n;
      }
    }
    barrier();
  }
  cnt = wg_a[0]; mean = wg_b[0]; m2 = wg_c[0];
  barrier();
}

// Online-softmax partials (running max m, sum s of exp(x - m)).
void wg_maxsum(inout float m, inout float s) {
  uint t = gl_LocalInvocationID.x;
  wg_a[t] = m; wg_b[t] = s;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1u) {
    if (t < h && wg_b[t + h] > 0.0) {
      float ma = wg_a[t], mb = wg_a[t + h], mm = max(ma, mb);
      wg_b[t] = (wg_b[t] > 0.0 ? wg_b[t] * exp_p(ma - mm) : 0.0) + wg_b[t + h] * exp_p(mb - mm);
      wg_a[t] = mm;
    }
    barrier();
  }
  m = wg_a[0]; s = wg_b[0];
  barrier();
}
#endif
