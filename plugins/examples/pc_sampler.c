/* Predictor-corrector sampler from the score-SDE view (Song et al. 2021, "Score-Based Generative Modeling
 * through SDEs", Algorithms 2/3): at each noise level a Langevin corrector (corrector_steps steps with the
 * step size set by the signal-to-noise ratio snr), then a reverse-diffusion predictor to the next level.
 * Two samplers: pc_ve (variance exploding: x as k-diffusion keeps it, score = (D - x) / sigma^2) and pc_vp
 * (variance preserving: x_vp = x / sqrt(1 + sigma^2), alpha_bar = 1 / (1 + sigma^2), DDPM discretisation).
 * The final step to sigma = 0 returns the denoised prediction, as k-diffusion samplers do.
 *
 * The corrector update runs in this plugin's own GLSL kernel (compiled by the host at load):
 *   out = x + eps * kg * (kd * D - x) + kz * z     (kd, kg: the score's scale, kz = sqrt(2 eps))  */
#include <math.h>
#include <stddef.h>

#include "vkflow_plugin.h"

static const vkflow_tensor_ops_t* ops;
static const vkflow_kernels_t* kernels;
static vkflow_kernel_t langevin;

#define TRY(expr)                                \
  do {                                           \
    vkflow_result_t rc_ = (expr);                \
    if (rc_ != VKFLOW_OK) return rc_;            \
  } while (0)

static const char* kLangevinGlsl =
    "#version 450\n"
    "layout(local_size_x = 256) in;\n"
    "layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };\n"
    "layout(std430, set = 0, binding = 1) readonly buffer Dn { float d[]; };\n"
    "layout(std430, set = 0, binding = 2) readonly buffer Z { float z[]; };\n"
    "layout(std430, set = 0, binding = 3) writeonly buffer O { float o[]; };\n"
    "layout(push_constant) uniform P { uint n; uint groups_x; float eps_kg; float kd; float kz; };\n"
    "void main() {\n"
    "  uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * groups_x * 256u;\n"
    "  if (i < n) o[i] = x[i] + eps_kg * (kd * d[i] - x[i]) + kz * z[i];\n"
    "}\n";

typedef struct {
  uint32_t n, groups_x;
  float eps_kg, kd, kz;
} push_t;

enum { P_SNR, P_CORRECTOR_STEPS, P_COUNT };
static int is_vp_tag[2] = {0, 1};

static vkflow_result_t numel_of(vkflow_run_t* run, vkflow_tensor_t t, int64_t* n) {
  int64_t dims[VKFLOW_MAX_DIMS];
  uint32_t rank = 0, k;
  TRY(ops->shape(run, t, dims, &rank));
  *n = 1;
  for (k = 0; k < rank; ++k) *n *= dims[k];
  return VKFLOW_OK;
}

/* One Langevin step at sigma on x (in the variant's coordinates): x <- x + eps grad + sqrt(2 eps) z, with
 * grad = kg (kd D - x) and eps = 2 alpha (snr |z| / |grad|)^2. x_k is x in k-diffusion scale (the model's). */
static vkflow_result_t corrector(const vkflow_sample_call_t* c, vkflow_tensor_t x, double sigma, double sigma_prev,
                                 int vp, int64_t numel) {
  vkflow_run_t* run = c->run;
  const double ab = 1.0 / (1.0 + sigma * sigma), to_k = vp ? sqrt(1.0 + sigma * sigma) : 1.0;
  const double kd = vp ? sqrt(ab) : 1.0, kg = vp ? 1.0 / (1.0 - ab) : 1.0 / (sigma * sigma);
  /* VP: alpha = 1 - beta of this level (as Song's LangevinCorrector for VPSDE); VE: 1 */
  const double alpha = vp ? fmin(1.0, (1.0 / (1.0 + sigma_prev * sigma_prev)) / ab) : 1.0;
  vkflow_tensor_t xk = NULL, D = NULL, z = NULL, g = NULL, out = NULL;
  double gn = 0.0, zn = 0.0, eps;
  push_t p;
  vkflow_tensor_t bind[4];
  uint64_t groups = ((uint64_t)numel + 255u) / 256u;
  TRY(ops->alloc_like(run, x, &xk));
  TRY(ops->scale(run, xk, x, to_k));
  TRY(c->api->denoise(run, xk, sigma, &D, NULL));
  ops->release(run, xk);
  TRY(c->api->noise(run, sigma, sigma, &z));
  TRY(ops->alloc_like(run, x, &g));
  {
    const double k[2] = {kg * kd, -kg};
    const vkflow_tensor_t v[2] = {D, x};
    TRY(ops->lincomb(run, g, 2, k, v, 0.0));
  }
  TRY(ops->norm(run, g, &gn));
  TRY(ops->norm(run, z, &zn));
  ops->release(run, g);
  eps = gn > 0.0 ? 2.0 * alpha * pow(c->params[P_SNR] * zn / gn, 2.0) : 0.0;
  TRY(ops->alloc_like(run, x, &out));
  p.n = (uint32_t)numel;
  p.groups_x = (uint32_t)(groups > 65535u ? 65535u : groups);
  p.eps_kg = (float)(eps * kg);
  p.kd = (float)kd;
  p.kz = (float)sqrt(2.0 * eps);
  bind[0] = x;
  bind[1] = D;
  bind[2] = z;
  bind[3] = out;
  TRY(kernels->dispatch(run, langevin, bind, 4, 1u << 3, &p, sizeof p, p.groups_x,
                        (uint32_t)((groups + p.groups_x - 1) / p.groups_x), 1));
  TRY(ops->copy(run, x, out));
  ops->release(run, out);
  ops->release(run, z);
  ops->release(run, D);
  return VKFLOW_OK;
}

static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  vkflow_run_t* run = c->run;
  const int vp = *(const int*)c->user_data;
  const int32_t steps = (int32_t)c->sigma_count - 1;
  const int corr = (int)c->params[P_CORRECTOR_STEPS];
  vkflow_tensor_t x = c->x;
  int64_t numel = 0;
  int32_t i;
  int j;
  if (c->param_count != P_COUNT) return VKFLOW_INVALID_ARGUMENT;
  TRY(numel_of(run, x, &numel));
  if (vp) TRY(ops->scale(run, x, x, 1.0 / sqrt(1.0 + c->sigmas[0] * c->sigmas[0])));
  for (i = 0; i < steps; ++i) {
    const double s0 = c->sigmas[i], s1 = c->sigmas[i + 1];
    vkflow_tensor_t xk = NULL, D = NULL, z = NULL;
    for (j = 0; j < corr; ++j) TRY(corrector(c, x, s0, i > 0 ? c->sigmas[i - 1] : s0, vp, numel));
    TRY(ops->alloc_like(run, x, &xk));
    TRY(ops->scale(run, xk, x, vp ? sqrt(1.0 + s0 * s0) : 1.0));
    TRY(c->api->denoise(run, xk, s0, &D, NULL));
    ops->release(run, xk);
    if (s1 == 0.0) {
      TRY(ops->copy(run, x, D));
    } else if (!vp) {
      /* x + (s0^2 - s1^2) (D - x) / s0^2 + sqrt(s0^2 - s1^2) z */
      const double q = (s0 * s0 - s1 * s1) / (s0 * s0);
      const double k[3] = {1.0 - q, q, sqrt(s0 * s0 - s1 * s1)};
      vkflow_tensor_t v[3];
      TRY(c->api->noise(run, s0, s1, &z));
      v[0] = x;
      v[1] = D;
      v[2] = z;
      TRY(ops->lincomb(run, x, 3, k, v, 0.0));
    } else {
      /* DDPM reverse diffusion: (2 - sqrt(1 - beta)) x + beta score + sqrt(beta) z, score = (sqrt(ab) D - x)/(1 - ab) */
      const double ab0 = 1.0 / (1.0 + s0 * s0), ab1 = 1.0 / (1.0 + s1 * s1), beta = 1.0 - ab0 / ab1;
      const double kg = beta / (1.0 - ab0);
      const double k[3] = {2.0 - sqrt(1.0 - beta) - kg, kg * sqrt(ab0), sqrt(beta)};
      vkflow_tensor_t v[3];
      TRY(c->api->noise(run, s0, s1, &z));
      v[0] = x;
      v[1] = D;
      v[2] = z;
      TRY(ops->lincomb(run, x, 3, k, v, 0.0));
    }
    ops->release(run, z);
    TRY(c->api->step_done(run, i, steps, x, D));
    ops->release(run, D);
  }
  /* the last step returned D (k-diffusion scale); otherwise back from VP coordinates */
  if (vp && c->sigmas[steps] != 0.0) TRY(ops->scale(run, x, x, sqrt(1.0 + c->sigmas[steps] * c->sigmas[steps])));
  *result = x;
  return VKFLOW_OK;
}

static const vkflow_param_desc_t params[P_COUNT] = {
    {sizeof(vkflow_param_desc_t), "snr", "signal-to-noise ratio of the Langevin corrector", VKFLOW_PARAM_FLOAT, 0.16,
     0.0, 1.0, 0.01},
    {sizeof(vkflow_param_desc_t), "corrector_steps", "Langevin steps per noise level", VKFLOW_PARAM_INT, 1.0, 0.0,
     10.0, 1.0},
};

static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  vkflow_kernel_desc_t k = {0};
  vkflow_sampler_desc_t d = {0};
  ops = (const vkflow_tensor_ops_t*)host->get_capability(host, VKFLOW_CAP_TENSOR_OPS);
  kernels = (const vkflow_kernels_t*)host->get_capability(host, VKFLOW_CAP_KERNELS);
  if (!reg || !ops || !kernels) return VKFLOW_UNSUPPORTED;
  k.struct_size = sizeof k;
  k.name = "langevin";
  k.language = VKFLOW_KERNEL_GLSL;
  k.code = kLangevinGlsl;
  k.code_size = 0;
  k.binding_count = 4;
  k.push_bytes = sizeof(push_t);
  TRY(kernels->register_kernel(host, &k, &langevin));
  d.struct_size = sizeof d;
  d.flags = VKFLOW_SAMPLER_STOCHASTIC;
  d.params = params;
  d.param_count = P_COUNT;
  d.sample = sample;
  d.name = "pc_ve";
  d.display_name = "Predictor-corrector VE (plugin)";
  d.description = "score-SDE reverse diffusion + Langevin corrector, variance exploding";
  d.user_data = &is_vp_tag[0];
  TRY(reg->register_sampler(host, &d));
  d.name = "pc_vp";
  d.display_name = "Predictor-corrector VP (plugin)";
  d.description = "score-SDE reverse diffusion + Langevin corrector, variance preserving";
  d.user_data = &is_vp_tag[1];
  return reg->register_sampler(host, &d);
}

VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.examples.pc_sampler",
    "Predictor-corrector (example)", "1.0.0", init, NULL};
