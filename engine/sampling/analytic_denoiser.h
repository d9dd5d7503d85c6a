#pragma once
// The analytic "model" of the sampler goldens (shared/golden/SAMPLERS.md): data x0 ~ N(mu, s^2) per
// element, and its exact minimum-MSE denoiser as GPU ops —
//   EPS / k-diffusion (x = x0 + sigma*n):      D = mu + s^2/(s^2 + sigma^2) * (x - mu)
//   flow / CONST (x = (1-sigma)*x0 + sigma*n): D = mu + (1-sigma)*s^2/((1-sigma)^2 s^2 + sigma^2) * (x - (1-sigma)*mu)
// With CFG (mu_u given): D = D_u + (D_c - D_u) * w, in ComfyUI's cfg_function operation order; the
// result's `uncond` is D_u (D itself without CFG, where cond == uncond), for the CFG++ samplers.
#include "engine/sampling/sampler.h"

namespace vkf::sampling {

class AnalyticDenoiser {
 public:
  // mu_u undefined: no CFG (D = D(mu_c)). Tensors F32 of the latent's shape.
  AnalyticDenoiser(Tensor mu_c, Tensor mu_u, double data_std, bool flow, double cfg = 1.0);

  Denoised operator()(vk::Recorder& rec, const Tensor& x, double sigma) const;
  DenoiseFn fn() const {
    return [this](vk::Recorder& rec, const Tensor& x, double sigma) { return (*this)(rec, x, sigma); };
  }
  int calls() const { return calls_; }

 private:
  Tensor one(vk::Recorder& rec, const Tensor& x, const Tensor& mu, double sigma) const;
  Tensor mu_c_, mu_u_;
  double s_, cfg_;
  bool flow_;
  mutable int calls_ = 0;
};

}  // namespace vkf::sampling
