/* Euler with churn (Karras et al. 2022, Algorithm 2; k-diffusion sample_euler): before each step the state
 * is pushed from sigma up to sigma_hat = sigma (1 + gamma) with fresh noise, gamma =
 * min(s_churn / steps, sqrt(2) - 1) for s_tmin <= sigma <= s_tmax. s_churn = 0 is plain Euler. */
#include <math.h>
#include <stddef.h>

#include "vkflow_plugin.h"

static const vkflow_tensor_ops_t* ops;

#define TRY(expr)                                \
  do {                                           \
    vkflow_result_t rc_ = (expr);                \
    if (rc_ != VKFLOW_OK) return rc_;            \
  } while (0)

enum { P_CHURN, P_TMIN, P_TMAX, P_NOISE, P_COUNT };

static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  vkflow_run_t* run = c->run;
  vkflow_tensor_t x = c->x;
  const int32_t steps = (int32_t)c->sigma_count - 1;
  const double s_churn = c->params[P_CHURN], s_tmin = c->params[P_TMIN], s_tmax = c->params[P_TMAX];
  const double s_noise = c->params[P_NOISE];
  int32_t i;
  if (c->param_count != P_COUNT) return VKFLOW_INVALID_ARGUMENT;
  for (i = 0; i < steps; ++i) {
    const double s0 = c->sigmas[i], s1 = c->sigmas[i + 1];
    const double g = (s_tmin <= s0 && s0 <= s_tmax) ? fmin(s_churn / steps, sqrt(2.0) - 1.0) : 0.0;
    const double sh = s0 * (g + 1.0);
    vkflow_tensor_t D = NULL;
    if (g > 0.0) {
      vkflow_tensor_t n = NULL;
      TRY(c->api->noise(run, s0, sh, &n));
      TRY(ops->axpy(run, x, s_noise * sqrt(sh * sh - s0 * s0), n));
      ops->release(run, n);
    }
    TRY(c->api->denoise(run, x, sh, &D, NULL));
    {
      /* x + (x - D) / sh * (s1 - sh) */
      const double dt = s1 - sh, k[2] = {1.0 + dt / sh, -dt / sh};
      const vkflow_tensor_t v[2] = {x, D};
      TRY(ops->lincomb(run, x, 2, k, v, 0.0));
    }
    TRY(c->api->step_done(run, i, steps, x, D));
    ops->release(run, D);
  }
  *result = x;
  return VKFLOW_OK;
}

static const vkflow_param_desc_t params[P_COUNT] = {
    {sizeof(vkflow_param_desc_t), "s_churn", "amount of noise added per step (0: plain Euler)", VKFLOW_PARAM_FLOAT,
     0.0, 0.0, 100.0, 0.01},
    {sizeof(vkflow_param_desc_t), "s_tmin", "churn only for sigma >= s_tmin", VKFLOW_PARAM_FLOAT, 0.0, 0.0, 1000.0,
     0.01},
    {sizeof(vkflow_param_desc_t), "s_tmax", "churn only for sigma <= s_tmax", VKFLOW_PARAM_FLOAT, 1000.0, 0.0,
     1000.0, 0.01},
    {sizeof(vkflow_param_desc_t), "s_noise", "scale of the churn noise", VKFLOW_PARAM_FLOAT, 1.0, 0.0, 10.0, 0.01},
};

static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  vkflow_sampler_desc_t d = {0};
  ops = (const vkflow_tensor_ops_t*)host->get_capability(host, VKFLOW_CAP_TENSOR_OPS);
  if (!reg || !ops) return VKFLOW_UNSUPPORTED;
  d.struct_size = sizeof d;
  d.name = "euler_churn";
  d.display_name = "Euler with churn (plugin)";
  d.flags = VKFLOW_SAMPLER_STOCHASTIC;
  d.params = params;
  d.param_count = P_COUNT;
  d.sample = sample;
  d.description = "Karras et al. Euler with stochastic churn (s_churn, s_tmin, s_tmax, s_noise)";
  return reg->register_sampler(host, &d);
}

VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.examples.euler_churn",
    "Euler with churn (example)", "1.0.0", init, NULL};
