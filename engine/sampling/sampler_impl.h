#pragma once
// Internal to the sampler implementation files: the per-run context every sampler function uses
// (denoiser calls, fused linear combinations, noise calls, step bookkeeping) and scalar helpers.
#include <cmath>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "engine/sampling/sampler.h"

namespace vkf::sampling::detail {

// One term c * t of a linear combination; c is computed in double on the host, cast to float for the GPU.
struct Tm {
  double c;
  const Tensor* t;
  Tm(double c_, const Tensor& t_) : c(c_), t(&t_) {}
};

class Run {
 public:
  Run(std::string name, SamplerEnv& env, const std::vector<float>& sigmas, const SamplerOptions& opt,
      Shape shape);

  const std::string name;
  SamplerEnv& env;
  const SamplerOptions& opt;
  std::vector<double> s;  // the sigmas as double (what ComfyUI's float64-exact code sees)
  Shape shape;

  vk::Recorder& rec() { return env.rec; }
  const ModelSampling& ms() const { return env.ms; }
  bool is_const() const { return env.ms.prediction() == Prediction::Const; }
  int steps() const { return int(s.size()) - 1; }
  double eta(double def) const { return opt.eta.value_or(def); }

  // Records one model evaluation; checks its shape (and that uncond is present when needed).
  Denoised denoise(const Tensor& x, double sigma, bool need_uncond = false);
  // Fused sum of terms (any count: chained 4-term lincombs); zero-coefficient terms are skipped.
  Tensor lin(const std::vector<Tm>& terms, double bias = 0.0);
  Tensor lin(std::initializer_list<Tm> terms, double bias = 0.0) { return lin(std::vector<Tm>(terms), bias); }
  // noise_sampler(sigma, sigma_next).
  Tensor noise(double sigma, double sigma_next);
  // Ends a step: submit, cancel check, callback(step, total, x, denoised).
  void end_step(int step, int total, const Tensor& x, const Tensor& denoised);
  void end_step(int step, const Tensor& x, const Tensor& denoised) { end_step(step, steps(), x, denoised); }
  // The Karras ODE derivative d = (x - D)/sigma.
  Tensor to_d(const Tensor& x, const Tensor& D, double sigma) { return lin({{1.0 / sigma, x}, {-1.0 / sigma, D}}); }
};

using SamplerFn = Tensor (*)(Run&, Tensor x);

// --- scalar helpers (ComfyUI k_diffusion/sampling.py) ---
struct Ancestral {
  double down, up;
};
// get_ancestral_step: eta 0 -> (sigma_to, 0).
inline Ancestral ancestral_step(double from, double to, double eta) {
  if (eta == 0.0) return {to, 0.0};
  double up = std::fmin(to, eta * std::sqrt(to * to * (from * from - to * to) / (from * from)));
  return {std::sqrt(to * to - up * up), up};
}
// torch.lerp's two-sided formula (exact at both ends).
inline double torch_lerp(double a, double b, double w) { return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1.0 - w); }
// Half-logSNR lambda = log(alpha/sigma): -log(sigma) (EPS/VE), log((1-sigma)/sigma) (CONST/flow).
inline double half_log_snr(double sigma, bool is_const) {
  return is_const ? -std::log(sigma / (1.0 - sigma)) : -std::log(sigma);
}
inline double half_log_snr_to_sigma(double lambda, bool is_const) {
  return is_const ? 1.0 / (1.0 + std::exp(lambda)) : std::exp(-lambda);
}
// offset_first_sigma_for_snr: flow models replace a first sigma >= 1 by percent_to_sigma(1e-4).
inline std::vector<double> offset_first_sigma(const Run& r) {
  std::vector<double> s = r.s;
  if (s.size() > 1 && r.is_const() && s[0] >= 1.0) s[0] = r.ms().percent_to_sigma(1e-4);
  return s;
}

// Solves A x = b (small, dense) by Gaussian elimination with partial pivoting, like torch.linalg.solve's LU.
std::vector<double> solve_linear(std::vector<std::vector<double>> A, std::vector<double> b);

// Registration tables of the implementation files (name -> function).
struct SamplerEntry {
  const char* name;
  SamplerFn fn;
};
std::vector<SamplerEntry> euler_family();      // samplers_euler.cpp
std::vector<SamplerEntry> dpmpp_family();      // samplers_dpmpp.cpp
std::vector<SamplerEntry> multistep_family();  // samplers_multistep.cpp
std::vector<SamplerEntry> exp_family();        // samplers_exp.cpp
std::vector<SamplerEntry> sa_solver_family();  // samplers_sa_solver.cpp
std::vector<SamplerEntry> unipc_family();      // samplers_unipc.cpp
std::vector<SamplerEntry> cfgpp_family();      // samplers_cfgpp.cpp
std::vector<SamplerEntry> dpm_solver_family(); // samplers_dpm_solver.cpp

// sum(((lo - hi) / max(atol, rtol * max(|lo|, |prev|)))^2) over all elements, recorded on the GPU and
// read back (submits the recorder). dpm_adaptive's error norm.
double error_sum_sq(vk::Recorder& rec, const Tensor& lo, const Tensor& hi, const Tensor& prev, double atol,
                    double rtol);

}  // namespace vkf::sampling::detail
