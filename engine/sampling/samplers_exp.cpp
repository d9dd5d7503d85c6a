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

Tensor seeds_2(Run& r, Tensor x, double eta, double s_noise, double rr, Solver solver) {
  const bool c = r.is_const(), inject = eta > 0.0 && s_noise > 0.0;
  const double fac = 1.0 / (2.0 * rr);
  const std::vector<double> sg = offset_first_sigma(r);
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[i], s1 = sg[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = D;
      r.end_step(i, x, D);
      continue;
    }
    const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls, h_eta = h * (eta + 1.0);
    const double ls1 = torch_lerp(ls, lt, rr), ss1 = half_log_snr_to_sigma(ls1, c);
    const double as1 = ss1 * std::exp(ls1), at = s1 * std::exp(lt);
    // stage 1
    std::vector<Tm> t1{{ss1 / s0 * std::exp(-rr * h * eta), x}, {-as1 * ei_phi_1(-rr * h_eta), D}};
    Tensor n1;
    double k1 = 0.0;  // sde_noise = k1 * n1
    if (inject) {
      n1 = r.noise(s0, ss1);
      k1 = std::sqrt(-std::expm1(-2.0 * rr * h * eta));
      t1.push_back({k1 * ss1 * s_noise, n1});
    }
    Tensor x2 = r.lin(t1);
    Tensor D2 = r.denoise(x2, ss1).denoised;
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
    Tensor n2;
    if (inject) {
      const double seg = (rr - 1.0) * h * eta;
      n2 = r.noise(ss1, s1);
      t2.push_back({k1 * std::exp(seg) * s1 * s_noise, n1});
      t2.push_back({std::sqrt(-std::expm1(2.0 * seg)) * s1 * s_noise, n2});
    }
    x = r.lin(t2);
    r.end_step(i, x, D);
  }
  return x;
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
  const std::vector<double> sg = offset_first_sigma(r);
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[i], s1 = sg[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = D;
      r.end_step(i, x, D);
      continue;
    }
    const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls, h_eta = h * (eta + 1.0);
    const double ls1 = torch_lerp(ls, lt, r1), ls2 = torch_lerp(ls, lt, r2);
    const double ss1 = half_log_snr_to_sigma(ls1, c), ss2 = half_log_snr_to_sigma(ls2, c);
    const double as1 = ss1 * std::exp(ls1), as2 = ss2 * std::exp(ls2), at = s1 * std::exp(lt);
    Tensor n1, n2, n3;
    double k1 = 0.0, k2 = 0.0;  // sde_noise = k1*n1 + k2*n2
    // stage 1
    std::vector<Tm> t1{{ss1 / s0 * std::exp(-r1 * h * eta), x}, {-as1 * ei_phi_1(-r1 * h_eta), D}};
    if (inject) {
      n1 = r.noise(s0, ss1);
      k1 = std::sqrt(-std::expm1(-2.0 * r1 * h * eta));
      t1.push_back({k1 * ss1 * s_noise, n1});
    }
    Tensor x2 = r.lin(t1);
    Tensor D2 = r.denoise(x2, ss1).denoised;
    // stage 2
    const double a32 = r2 / r1 * ei_phi_2(-r2 * h_eta), a31 = ei_phi_1(-r2 * h_eta) - a32;
    std::vector<Tm> t2{{ss2 / s0 * std::exp(-r2 * h * eta), x}, {-as2 * a31, D}, {-as2 * a32, D2}};
    if (inject) {
      const double seg = (r1 - r2) * h * eta;
      n2 = r.noise(ss1, ss2);
      k1 *= std::exp(seg);
      k2 = std::sqrt(-std::expm1(2.0 * seg));
      t2.push_back({k1 * ss2 * s_noise, n1});
      t2.push_back({k2 * ss2 * s_noise, n2});
    }
    Tensor x3 = r.lin(t2);
    Tensor D3 = r.denoise(x3, ss2).denoised;
    // stage 3
    const double b3 = ei_phi_2(-h_eta) / r2, b1 = ei_phi_1(-h_eta) - b3;
    std::vector<Tm> t3{{s1 / s0 * std::exp(-h * eta), x}, {-at * b1, D}, {-at * b3, D3}};
    if (inject) {
      const double seg = (r2 - 1.0) * h * eta;
      n3 = r.noise(ss2, s1);
      t3.push_back({k1 * std::exp(seg) * s1 * s_noise, n1});
      t3.push_back({k2 * std::exp(seg) * s1 * s_noise, n2});
      t3.push_back({std::sqrt(-std::expm1(2.0 * seg)) * s1 * s_noise, n3});
    }
    x = r.lin(t3);
    r.end_step(i, x, D);
  }
  return x;
}

}  // namespace

std::vector<SamplerEntry> exp_family() {
  return {{"seeds_2", sample_seeds_2},
          {"seeds_3", sample_seeds_3},
          {"exp_heun_2_x0", sample_exp_heun_2_x0},
          {"exp_heun_2_x0_sde", sample_exp_heun_2_x0_sde}};
}

}  // namespace vkf::sampling::detail
