#pragma once
// Internal to the sampler implementation files: the per-run context every sampler function uses
// (denoiser calls, fused linear combinations, noise calls, step bookkeeping) and scalar helpers.
#include <cmath>
#include <initializer_list>
#include <string>
#include <type_traits>
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
  const SamplerDesc* desc = nullptr;  // the registered sampler being run (set by run_sampler)

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
  // lin(terms + coeff * noise(sigma, sigma_next)). The noise is drawn only when `draw`: every draw advances
  // the noise source, so each sampler keeps ComfyUI's own condition for it.
  Tensor lin_noised(std::vector<Tm> terms, bool draw, double sigma, double sigma_next, double coeff) {
    if (!draw) return lin(terms);
    const Tensor n = noise(sigma, sigma_next);
    terms.push_back({coeff, n});
    return lin(terms);
  }
  // Ends a step: submit, cancel check, callback(step, total, x, denoised).
  void end_step(int step, int total, const Tensor& x, const Tensor& denoised);
  void end_step(int step, const Tensor& x, const Tensor& denoised) { end_step(step, steps(), x, denoised); }
  // The Karras ODE derivative d = (x - D)/sigma.
  Tensor to_d(const Tensor& x, const Tensor& D, double sigma) { return lin({{1.0 / sigma, x}, {-1.0 / sigma, D}}); }
};

using SamplerFn = Tensor (*)(Run&, Tensor x);

// The loop of every sampler with one model call at the start of each step: dn = model(x, sg[i]), then
// x = step(i, sg[i], sg[i + 1], x, D) and the step callback with (x, D). `step` takes the guided
// prediction D as `const Tensor&`, or the whole `const Denoised&` (CFG++: D and D_u).
template <class Step>
Tensor step_loop(Run& r, Tensor x, const std::vector<double>& sg, bool need_uncond, Step step) {
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[size_t(i)], s1 = sg[size_t(i) + 1];
    const Denoised dn = r.denoise(x, s0, need_uncond);
    if constexpr (std::is_invocable_v<Step&, int, double, double, const Tensor&, const Denoised&>)
      x = step(i, s0, s1, x, dn);
    else
      x = step(i, s0, s1, x, dn.denoised);
    r.end_step(i, x, dn.denoised);
  }
  return x;
}
// step_loop over the run's own sigmas, without the unconditional prediction.
template <class Step>
Tensor step_loop(Run& r, Tensor x, Step step) {
  return step_loop(r, std::move(x), r.s, false, std::move(step));
}

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
// Flow (CONST) models: ComfyUI's *_RF ancestral samplers step to sigma_down and rescale by the alpha ratio.
struct RfStep {
  double down, a_ratio, renoise;  // sigma_down, alpha_{i+1}/alpha_down, renoise coefficient
};
inline RfStep rf_step(double s0, double s1, double eta) {
  const double down = s1 * (1.0 + (s1 / s0 - 1.0) * eta);
  const double a1 = 1.0 - s1, ad = 1.0 - down;
  return {down, a1 / ad, std::sqrt(s1 * s1 - down * down * a1 * a1 / (ad * ad))};
}
// The RF ancestral update from x towards the prediction P at st.down (q = down/s0), rescaled to s1 and
// renoised when eta > 0: a_ratio * (q x + (1 - q) P) + s_noise * renoise * noise(s0, s1).
inline Tensor rf_ancestral_update(Run& r, const Tensor& x, const Tensor& P, double s0, double s1, const RfStep& st,
                                  double eta, double s_noise) {
  const double q = st.down / s0;
  if (eta > 0.0)
    return r.lin_noised({{st.a_ratio * q, x}, {st.a_ratio * (1.0 - q), P}}, true, s0, s1, s_noise * st.renoise);
  return r.lin({{q, x}, {1.0 - q, P}});
}
// x + s_noise * up * noise(s0, s1): the noise of a Karras ancestral step. ComfyUI also draws it (times 0)
// when up = 0; that call is skipped here.
inline Tensor add_ancestral_noise(Run& r, const Tensor& x, double s0, double s1, double up, double s_noise) {
  if (!(s1 > 0.0 && up != 0.0)) return x;
  return r.lin_noised({{1.0, x}}, true, s0, s1, s_noise * up);
}
// Fraction of unit noise an SDE step of length h*eta in half-logSNR time adds: sqrt(1 - exp(-2 h eta)).
inline double sde_noise_frac(double h_eta) { return std::sqrt(-std::expm1(-2.0 * h_eta)); }
// Folds k * (terms[i] - prev) into a term list (a multistep history difference).
inline void add_difference(std::vector<Tm>& terms, size_t i, double k, const Tensor& prev) {
  terms[i].c += k;
  terms.push_back({-k, prev});
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

// Registration tables of the implementation files: declared properties per sampler. `rank` is the
// sampler's position in ComfyUI's SAMPLER_NAMES (KSAMPLER_NAMES + ddim, uni_pc, uni_pc_bh2): the built-ins
// register in that order, so combos list them as ComfyUI does; ranks must be 0..n-1, each once.
enum SamplerProps : unsigned { kOde = 0, kUncond = 1, kDiscardPenultimate = 2, kNoise = 4 };
struct SamplerEntry {
  int rank;
  const char* name;
  SamplerFn fn;
  unsigned props;
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
