// SA-Solver: stochastic Adams predictor-corrector in half-logSNR time (NeurIPS 2023, arXiv 2309.05019),
// ComfyUI sample_sa_solver / sample_sa_solver_pece and k_diffusion/sa_solver.py. The b coefficients
// (Lagrange integrals of the exponential kernel) are small dense solves done on the host in double.
#include <deque>

#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

// compute_exponential_coeffs: (1+tau^2) * integral_s^t exp((1+tau^2) x) x^p dx / exp((1+tau^2) t), p < order.
std::vector<double> exponential_coeffs(double s, double t, int order, double tau) {
  const double tau_mul = 1.0 + tau * tau, h = t - s;
  std::vector<double> pt(static_cast<size_t>(order)), out(static_cast<size_t>(order), 0.0);
  for (int p = 0; p < order; ++p) pt[size_t(p)] = std::pow(t, p) - std::pow(s, p) * std::exp(-tau_mul * h);
  for (int i = 0; i < order; ++i)
    for (int j = 0; j <= i; ++j) {
      double lc = std::lgamma(i + 1.0) - std::lgamma(j + 1.0);
      if (tau > 0.0) lc -= (i - j) * std::log(tau_mul);
      out[size_t(i)] += std::exp(lc) * ((i - j) % 2 == 0 ? 1.0 : -1.0) * pt[size_t(j)];
    }
  return out;
}

// compute_stochastic_adams_b_coeffs (simple_order_2 = False).
std::vector<double> b_coeffs(double sigma_next, const std::vector<double>& lambdas, double ls, double lt, double tau) {
  const int n = int(lambdas.size());
  const std::vector<double> e = exponential_coeffs(ls, lt, n, tau);
  std::vector<std::vector<double>> vt(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(n)));  // vander(lambdas).T
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) vt[size_t(j)][size_t(i)] = std::pow(lambdas[size_t(i)], j);
  std::vector<double> x = solve_linear(vt, e);
  const double alpha_t = sigma_next * std::exp(lt);
  for (double& v : x) v *= alpha_t;
  return x;
}

Tensor sa_solver(Run& r, Tensor x, bool use_pece) {
  constexpr int kPredictor = 3, kCorrector = 4, kMaxUsed = 4;
  const double s_noise = r.opt.s_noise;
  const bool c = r.is_const();
  const std::vector<double> sg = offset_first_sigma(r);
  std::vector<double> lam(sg.size());
  for (size_t k = 0; k < sg.size(); ++k) lam[k] = half_log_snr(sg[k], c);
  // Default tau: 1 (eta) inside [percent_to_sigma(0.8), percent_to_sigma(0.2)], else 0 (ODE).
  const double start_sigma = r.ms().percent_to_sigma(0.2), end_sigma = r.ms().percent_to_sigma(0.8);
  auto tau_fn = [&](double s) { return (start_sigma >= s && s >= end_sigma) ? 1.0 : 0.0; };
  const int n_sig = int(sg.size());
  const bool lower_order_to_end = sg.back() == 0.0;

  Tensor x_pred = std::move(x), noise;
  double h = 0.0, tau_t = 0.0;
  std::deque<Tensor> preds;  // newest last, at most kMaxUsed
  for (int i = 0; i < r.steps(); ++i) {
    Tensor D = r.denoise(x_pred, sg[i]).denoised;
    const Tensor D_first = D;
    preds.push_back(D);
    if (int(preds.size()) > kMaxUsed) preds.pop_front();
    const int np = int(preds.size());
    int p_order = std::min(kPredictor, np);
    int c_order = (i == 0 || (sg[i + 1] == 0.0 && !use_pece)) ? 0 : std::min(kCorrector, np);
    if (lower_order_to_end) {
      p_order = std::min(p_order, n_sig - 2 - i);
      c_order = std::min(c_order, n_sig - 1 - i);
    }
    // corrector
    if (c_order == 0) {
      x = x_pred;
    } else {
      const std::vector<double> ls(lam.begin() + (i - c_order + 1), lam.begin() + (i + 1));
      const std::vector<double> b = b_coeffs(sg[i], ls, lam[size_t(i - 1)], lam[size_t(i)], tau_t);
      std::vector<Tm> terms{{sg[i] / sg[i - 1] * std::exp(-(tau_t * tau_t) * h), x}};
      for (int k = 0; k < c_order; ++k) terms.push_back({b[size_t(k)], preds[size_t(np - c_order + k)]});
      if (tau_t > 0.0 && s_noise > 0.0) terms.push_back({1.0, noise});  // the previous predictor's noise
      x = r.lin(terms);
      if (use_pece) {
        D = r.denoise(x, sg[i]).denoised;
        preds.back() = D;
      }
    }
    // predictor
    if (sg[i + 1] == 0.0) {
      x_pred = D;
    } else {
      tau_t = tau_fn(sg[i + 1]);
      const std::vector<double> ls(lam.begin() + (i - p_order + 1), lam.begin() + (i + 1));
      const std::vector<double> b = b_coeffs(sg[i + 1], ls, lam[size_t(i)], lam[size_t(i + 1)], tau_t);
      h = lam[size_t(i + 1)] - lam[size_t(i)];
      std::vector<Tm> terms{{sg[i + 1] / sg[i] * std::exp(-(tau_t * tau_t) * h), x}};
      for (int k = 0; k < p_order; ++k) terms.push_back({b[size_t(k)], preds[size_t(np - p_order + k)]});
      if (tau_t > 0.0 && s_noise > 0.0) {
        Tensor n = r.noise(sg[i], sg[i + 1]);
        noise = r.lin({{sg[i + 1] * std::sqrt(-std::expm1(-2.0 * tau_t * tau_t * h)) * s_noise, n}});
        terms.push_back({1.0, noise});
      }
      x_pred = r.lin(terms);
    }
    r.end_step(i, x_pred, D_first);
  }
  return x_pred;
}

Tensor sample_sa_solver(Run& r, Tensor x) { return sa_solver(r, std::move(x), false); }
Tensor sample_sa_solver_pece(Run& r, Tensor x) { return sa_solver(r, std::move(x), true); }

}  // namespace

std::vector<SamplerEntry> sa_solver_family() {
  return {{39, "sa_solver", sample_sa_solver, kNoise}, {40, "sa_solver_pece", sample_sa_solver_pece, kNoise}};
}

}  // namespace vkf::sampling::detail
