/* dpmpp_2m as a plugin: DPM-Solver++(2M) (Lu et al. 2022; ComfyUI k_diffusion sample_dpmpp_2m), built only
 * against vkflow_plugin.h. It forms the same linear combinations as the built-in, so through the host's
 * fused lincomb it gives the built-in's results (the test checks this on the goldens). */
#include <math.h>
#include <stddef.h>

#include "vkflow_plugin.h"

static const vkflow_tensor_ops_t* ops;

#define TRY(expr)                                \
  do {                                           \
    vkflow_result_t rc_ = (expr);                \
    if (rc_ != VKFLOW_OK) return rc_;            \
  } while (0)

static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  vkflow_run_t* run = c->run;
  vkflow_tensor_t x = c->x, old = NULL;
  const int32_t steps = (int32_t)c->sigma_count - 1;
  int32_t i;
  for (i = 0; i < steps; ++i) {
    const double s0 = c->sigmas[i], s1 = c->sigmas[i + 1];
    vkflow_tensor_t D = NULL, nx = NULL;
    TRY(c->api->denoise(run, x, s0, &D, NULL));
    TRY(ops->alloc_like(run, x, &nx));
    if (s1 == 0.0) {
      TRY(ops->copy(run, nx, D)); /* (sigma_next / sigma) = 0, -expm1(-inf) = 1 */
    } else {
      const double t = -log(s0), tn = -log(s1), h = tn - t, ratio = exp(-tn) / exp(-t), e = -expm1(-h);
      if (old == NULL) {
        const double k[2] = {ratio, e};
        const vkflow_tensor_t v[2] = {x, D};
        TRY(ops->lincomb(run, nx, 2, k, v, 0.0));
      } else {
        const double h_last = t + log(c->sigmas[i - 1]), rk = h_last / h;
        const double k[3] = {ratio, e * (1.0 + 1.0 / (2.0 * rk)), -e / (2.0 * rk)};
        const vkflow_tensor_t v[3] = {x, D, old};
        TRY(ops->lincomb(run, nx, 3, k, v, 0.0));
      }
    }
    ops->release(run, x);
    ops->release(run, old);
    x = nx;
    old = D;
    TRY(c->api->step_done(run, i, steps, x, D));
  }
  ops->release(run, old);
  *result = x;
  return VKFLOW_OK;
}

static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  vkflow_sampler_desc_t d = {0};
  ops = (const vkflow_tensor_ops_t*)host->get_capability(host, VKFLOW_CAP_TENSOR_OPS);
  if (!reg || !ops) return VKFLOW_UNSUPPORTED;
  d.struct_size = sizeof d;
  d.name = "dpmpp_2m_plugin";
  d.display_name = "DPM++ 2M (plugin)";
  d.flags = 0;
  d.sample = sample;
  d.description = "DPM-Solver++(2M), re-implemented through the plugin ABI";
  return reg->register_sampler(host, &d);
}

VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.examples.dpmpp_2m",
    "DPM++ 2M (example)", "1.0.0", init, NULL};
