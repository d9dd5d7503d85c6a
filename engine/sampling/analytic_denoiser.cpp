#include "engine/sampling/analytic_denoiser.h"

#include "engine/ops/lincomb.h"

namespace vkf::sampling {

AnalyticDenoiser::AnalyticDenoiser(Tensor mu_c, Tensor mu_u, double data_std, bool flow, double cfg)
    : mu_c_(std::move(mu_c)), mu_u_(std::move(mu_u)), s_(data_std), cfg_(cfg), flow_(flow) {
  if (!mu_c_.defined()) throw SamplingError("AnalyticDenoiser: no mean tensor");
  if (mu_u_.defined() && mu_u_.shape() != mu_c_.shape())
    throw SamplingError("AnalyticDenoiser: mu_c " + shape_str(mu_c_.shape()) + " and mu_u " +
                        shape_str(mu_u_.shape()) + " differ in shape");
  if (!(data_std > 0.0)) throw SamplingError("AnalyticDenoiser: data_std must be > 0");
}

Tensor AnalyticDenoiser::one(vk::Recorder& rec, const Tensor& x, const Tensor& mu, double sigma) const {
  const double s2 = s_ * s_;
  double k, kmu;  // D = k*x + kmu*mu
  if (flow_) {
    const double a = 1.0 - sigma;
    k = a * s2 / (a * a * s2 + sigma * sigma);
    kmu = 1.0 - k * a;
  } else {
    k = s2 / (s2 + sigma * sigma);
    kmu = 1.0 - k;
  }
  return ops::lincomb(rec, {{float(k), &x}, {float(kmu), &mu}});
}

Denoised AnalyticDenoiser::operator()(vk::Recorder& rec, const Tensor& x, double sigma) const {
  if (x.shape() != mu_c_.shape())
    throw SamplingError("AnalyticDenoiser: x " + shape_str(x.shape()) + " vs mu " + shape_str(mu_c_.shape()));
  ++calls_;
  Tensor dc = one(rec, x, mu_c_, sigma);
  if (!mu_u_.defined()) return {dc, dc};
  Tensor du = one(rec, x, mu_u_, sigma);
  // cfg_function: uncond + (cond - uncond) * scale
  Tensor diff = ops::lincomb(rec, {{1.0f, &dc}, {-1.0f, &du}});
  Tensor d = ops::lincomb(rec, {{1.0f, &du}, {float(cfg_), &diff}});
  return {d, du};
}

}  // namespace vkf::sampling
