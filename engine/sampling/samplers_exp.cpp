// Exponential-integrator samplers in half-logSNR time (data prediction): seeds_2, seeds_3,
// exp_heun_2_x0 and exp_heun_2_x0_sde (ComfyUI sample_seeds_2 / sample_seeds_3, arXiv 2305.14267).
// The SDE noise of a step is a combination of the step's noise calls; its coefficients are tracked on the
// host so every stage stays one fused linear combination.
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

double ei_phi_1(double h) { return std::expm1(h); }
double ei_phi_2(double h) { return (std::expm1(h) - h) / h; }

enum class Solver { Phi1, Phi2 };

// SEEDS stage 1: x at s0 -> x at ss1 = sigma(lambda_s + frac * h), with the stage's SDE noise
// n = noise(s0, ss1) of weight k (the later stages carry it forward, rescaled).
struct Stage1 {
  Tensor x, n;
  double k = 0.0;
};
Stage1 seeds_stage1(Run& r, const Tensor& x, const Tensor& D, double s0, double ss1, double ls1, double frac, double h,
                    double eta, double s_noise, bool inject) {
  const double as1 = ss1 * std::exp(ls1), h_eta = h * (eta + 1.0);
  std::vector<Tm> t1{{ss1 / s0 * std::exp(-frac * h * eta), x}, {-as1 * ei_phi_1(-frac * h_eta), D}};
  Stage1 st;
  if (inject) {
    st.n = r.noise(s0, ss1);
    st.k = sde_noise_frac(frac * h * eta);
    t1.push_back({st.k * ss1 * s_noise, st.n});
  }
  st.x = r.lin(t1);
  return st;
}

Tensor seeds_2(Run& r, Tensor x, double eta, double s_noise, double rr, Solver solver) {
  const bool c = r.is_const(), inject = eta > 0.0 && s_noise > 0.0;
  const double fac = 1.0 / (2.0 * rr);
  return step_loop(r, std::move(x), offset_first_sigma(r), false,
                   [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    if (s1 == 0.0) return D;
    const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls, h_eta = h * (eta + 1.0);
    const double ls1 = torch_lerp(ls, lt, rr), ss1 = half_log_snr_to_sigma(ls1, c);
    const double at = s1 * std::exp(lt);
    const Stage1 st = seeds_stage1(r, x, D, s0, ss1, ls1, rr, h, eta, s_noise, inject);  // sde_noise = k * n
    Tensor D2 = r.denoise(st.x, ss1).denoised;
    // stage 2
    std::vector<Tm> t2{{s1 / s0 * std::exp(-h * eta), x}};
    if (solver == Solver::Phi1) {  // lerp(D, D2, fac)
      const double k = -at * ei_phi_1(-h_eta);
      t2.push_back({k * (1.0 - fac), D});
      t2.push_back({k * fac, D2});
    } else {
      const double b2 = ei_phi_2(-h_eta) / rr, b1 = ei_phi_1(-h_eta) - b2;
      t2.push_back({-at * b1, D});
      t2.push_back({-at * b2, D2});
    }
    const double seg = (rr - 1.0) * h * eta;
    if (inject) t2.push_back({st.k * std::exp(seg) * s1 * s_noise, st.n});
    return r.lin_noised(std::move(t2), inject, ss1, s1, sde_noise_frac(-seg) * s1 * s_noise);
  });
}

Tensor sample_seeds_2(Run& r, Tensor x) {
  return seeds_2(r, std::move(x), r.eta(1.0), r.opt.s_noise, 0.5, Solver::Phi1);
}
Tensor sample_exp_heun_2_x0(Run& r, Tensor x) { return seeds_2(r, std::move(x), 0.0, 0.0, 1.0, Solver::Phi2); }
Tensor sample_exp_heun_2_x0_sde(Run& r, Tensor x) {
  return seeds_2(r, std::move(x), r.eta(1.0), r.opt.s_noise, 1.0, Solver::Phi2);
}

Tensor sample_seeds_3(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise, r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
  const bool c = r.is_const(), inject = eta > 0.0 && s_noise > 0.0;
  return step_loop(r, std::move(x), offset_first_sigma(r), false,
                   [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    if (s1 == 0.0) return D;
    const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls, h_eta = h * (eta + 1.0);
    const double ls1 = torch_lerp(ls, lt, r1), ls2 = torch_lerp(ls, lt, r2);
    const double ss1 = half_log_snr_to_sigma(ls1, c), ss2 = half_log_snr_to_sigma(ls2, c);
    const double as2 = ss2 * std::exp(ls2), at = s1 * std::exp(lt);
    const Stage1 st = seeds_stage1(r, x, D, s0, ss1, ls1, r1, h, eta, s_noise, inject);
    const Tensor& n1 = st.n;
    Tensor n2;
    double k1 = st.k, k2 = 0.0;  // sde_noise = k1*n1 + k2*n2
    Tensor D2 = r.denoise(st.x, ss1).denoised;
    // stage 2
    const double a32 = r2 / r1 * ei_phi_2(-r2 * h_eta), a31 = ei_phi_1(-r2 * h_eta) - a32;
    std::vector<Tm> t2{{ss2 / s0 * std::exp(-r2 * h * eta), x}, {-as2 * a31, D}, {-as2 * a32, D2}};
    if (inject) {
      const double seg = (r1 - r2) * h * eta;
      n2 = r.noise(ss1, ss2);
      k1 *= std::exp(seg);
      k2 = sde_noise_frac(-seg);
      t2.push_back({k1 * ss2 * s_noise, n1});
      t2.push_back({k2 * ss2 * s_noise, n2});
    }
    Tensor x3 = r.lin(t2);
    Tensor D3 = r.denoise(x3, ss2).denoised;
    // stage 3
    const double b3 = ei_phi_2(-h_eta) / r2, b1 = ei_phi_1(-h_eta) - b3;
    std::vector<Tm> t3{{s1 / s0 * std::exp(-h * eta), x}, {-at * b1, D}, {-at * b3, D3}};
    const double seg = (r2 - 1.0) * h * eta;
    if (inject) {
      t3.push_back({k1 * std::exp(seg) * s1 * s_noise, n1});
      t3.push_back({k2 * std::exp(seg) * s1 * s_noise, n2});
    }
    return r.lin_noised(std::move(t3), inject, ss2, s1, sde_noise_frac(-seg) * s1 * s_noise);
  });
}

}  // namespace

std::vector<SamplerEntry> exp_family() {
  return {{37, "seeds_2", sample_seeds_2, kNoise},
          {38, "seeds_3", sample_seeds_3, kNoise},
          {6, "exp_heun_2_x0", sample_exp_heun_2_x0, kOde},
          {7, "exp_heun_2_x0_sde", sample_exp_heun_2_x0_sde, kNoise}};
}

}  // namespace vkf::sampling::detail
