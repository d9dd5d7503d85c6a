#include "engine/sampling/schedulers.h"

#include <algorithm>
#include <cmath>

#include "engine/sampling/beta_dist.h"
#include "engine/sampling/sampler.h"
#include "engine/sampling/torch_math.h"

// Float32 emulation notes: every tensor op of the reference is one rounding, so each one is a
// separate statement here (no expression the compiler could fuse into an FMA). Python floats that
// meet a float32 tensor are cast to float32 first (torch's CPU scalar handling). exp/tan/pow of
// torch's vectorised kernels (Sleef, <= 1 ulp) are replaced by libm, so karras/exponential/kl_optimal
// may differ from ComfyUI by ~1 float32 ulp on some entries.

namespace vkf::sampling {

namespace {

void check_steps(std::string_view what, int steps) {
  if (steps < 1)
    throw SamplingError(std::string(what) + ": steps must be >= 1, got " + std::to_string(steps));
}

bool isclose_abs(double a, double b, double abs_tol) { return std::fabs(a - b) <= abs_tol; }

}  // namespace

SchedulerRegistry& scheduler_registry() {
  static SchedulerRegistry* r = [] {
    static SchedulerRegistry reg("scheduler");
    using MS = const ModelSampling&;
    const std::pair<const char*, std::function<std::vector<float>(MS, int)>> builtins[] = {
        {"simple", [](MS ms, int n) { return simple_sigmas(ms, n); }},
        {"sgm_uniform", [](MS ms, int n) { return normal_sigmas(ms, n, true); }},
        {"karras", [](MS ms, int n) { return karras_sigmas(n, ms.sigma_min(), ms.sigma_max()); }},
        {"exponential", [](MS ms, int n) { return exponential_sigmas(n, ms.sigma_min(), ms.sigma_max()); }},
        {"ddim_uniform", [](MS ms, int n) { return ddim_uniform_sigmas(ms, n); }},
        {"beta", [](MS ms, int n) { return beta_sigmas(ms, n); }},
        {"normal", [](MS ms, int n) { return normal_sigmas(ms, n, false); }},
        {"linear_quadratic", [](MS ms, int n) { return linear_quadratic_sigmas(ms, n); }},
        {"kl_optimal", [](MS ms, int n) { return kl_optimal_sigmas(n, ms.sigma_min(), ms.sigma_max()); }},
    };
    for (const auto& [name, fn] : builtins) reg.add({name, name, "built-in", fn});
    return &reg;
  }();
  return *r;
}

std::vector<std::string> scheduler_names() { return scheduler_registry().names(); }

bool is_scheduler_name(std::string_view name) { return scheduler_registry().find(name) != nullptr; }

std::vector<float> simple_sigmas(const ModelSampling& ms, int steps) {
  check_steps("simple scheduler", steps);
  const auto s = ms.sigmas();
  const double ss = static_cast<double>(s.size()) / steps;
  std::vector<float> out;
  out.reserve(static_cast<size_t>(steps) + 1);
  for (int x = 0; x < steps; ++x) {
    const auto back = static_cast<size_t>(x * ss);  // python int() truncates
    out.push_back(s[s.size() - 1 - back]);
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> ddim_uniform_sigmas(const ModelSampling& ms, int steps) {
  check_steps("ddim_uniform scheduler", steps);
  const auto s = ms.sigmas();
  if (s.size() < 2) throw SamplingError("ddim_uniform scheduler: sigma table too short");
  std::vector<float> sigs;
  size_t x = 1;
  if (isclose_abs(s[1], 0.0, 1e-5))
    ++steps;  // tables that start at 0 already end the reversed list with it
  else
    sigs.push_back(0.0f);
  const size_t ss = std::max<size_t>(s.size() / static_cast<size_t>(steps), 1);
  while (x < s.size()) {
    sigs.push_back(s[x]);
    x += ss;
  }
  std::reverse(sigs.begin(), sigs.end());
  return sigs;
}

std::vector<float> normal_sigmas(const ModelSampling& ms, int steps, bool sgm) {
  check_steps(sgm ? "sgm_uniform scheduler" : "normal scheduler", steps);
  const float start = ms.timestep(ms.sigma_max());
  const float end = ms.timestep(ms.sigma_min());
  bool append_zero = true;
  std::vector<float> ts;
  if (sgm) {
    ts = torch_linspace_f32(start, end, steps + 1);
    ts.pop_back();
  } else {
    if (isclose_abs(ms.sigma(end), 0.0, 1e-5)) {
      ++steps;
      append_zero = false;
    }
    ts = torch_linspace_f32(start, end, steps);
  }
  std::vector<float> out;
  out.reserve(ts.size() + 1);
  for (float t : ts) out.push_back(ms.sigma(t));
  if (append_zero) out.push_back(0.0f);
  return out;
}

std::vector<float> beta_sigmas(const ModelSampling& ms, int steps, double alpha, double beta) {
  check_steps("beta scheduler", steps);
  const auto s = ms.sigmas();
  const double total = static_cast<double>(s.size() - 1);
  const double step = 1.0 / steps;  // numpy.linspace(0, 1, steps, endpoint=False)
  std::vector<float> out;
  double last_t = -1.0;
  for (int i = 0; i < steps; ++i) {
    const double p = 1.0 - static_cast<double>(i) * step;
    const double t = std::nearbyint(beta_ppf(p, alpha, beta) * total);  // numpy.rint: half to even
    if (std::isnan(t) || t < 0.0 || t > total)
      throw SamplingError("beta scheduler: invalid alpha/beta (" + std::to_string(alpha) + ", " +
                          std::to_string(beta) + ")");
    if (t != last_t) out.push_back(s[static_cast<size_t>(t)]);
    last_t = t;
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> linear_quadratic_sigmas(const ModelSampling& ms, int steps, double threshold_noise,
                                           int linear_steps) {
  check_steps("linear_quadratic scheduler", steps);
  std::vector<double> sched;
  if (steps == 1) {
    sched = {1.0, 0.0};
  } else {
    if (linear_steps < 0) linear_steps = steps / 2;
    if (linear_steps == 0 || linear_steps >= steps)
      throw SamplingError("linear_quadratic scheduler: linear_steps must be in [1, steps-1], got " +
                          std::to_string(linear_steps));
    const double ls = linear_steps;
    const double diff = ls - threshold_noise * steps;
    const long long qs = steps - linear_steps;
    const double quad_coef = diff / static_cast<double>(linear_steps * qs * qs);
    const double lin_coef = threshold_noise / ls - 2.0 * diff / static_cast<double>(qs * qs);
    const double cst = quad_coef * static_cast<double>(static_cast<long long>(linear_steps) * linear_steps);
    for (int i = 0; i < linear_steps; ++i) sched.push_back(i * threshold_noise / ls);
    for (long long i = linear_steps; i < steps; ++i)
      sched.push_back(quad_coef * static_cast<double>(i * i) + lin_coef * static_cast<double>(i) + cst);
    sched.push_back(1.0);
    for (double& x : sched) x = 1.0 - x;
  }
  const float smax = ms.sigma_max();
  std::vector<float> out;
  out.reserve(sched.size());
  for (double x : sched) out.push_back(static_cast<float>(x) * smax);  // FloatTensor(list) * sigma_max
  return out;
}

std::vector<float> karras_sigmas(int n, double sigma_min, double sigma_max, double rho) {
  check_steps("karras scheduler", n);
  const std::vector<float> ramp = torch_linspace_f32(0.0f, 1.0f, n);
  const double min_inv_rho = std::pow(sigma_min, 1.0 / rho);
  const double max_inv_rho = std::pow(sigma_max, 1.0 / rho);
  const float diff = static_cast<float>(min_inv_rho - max_inv_rho);
  const float base = static_cast<float>(max_inv_rho);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n) + 1);
  for (float r : ramp) {
    const float t = r * diff;
    const float v = t + base;
    out.push_back(static_cast<float>(std::pow(static_cast<double>(v), rho)));  // torch pow(float, double)
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> exponential_sigmas(int n, double sigma_min, double sigma_max) {
  check_steps("exponential scheduler", n);
  const std::vector<float> ls =
      torch_linspace_f32(static_cast<float>(std::log(sigma_max)), static_cast<float>(std::log(sigma_min)), n);
  std::vector<float> out;
  out.reserve(ls.size() + 1);
  for (float v : ls) out.push_back(sleef_expf(v));
  out.push_back(0.0f);
  return out;
}

std::vector<float> kl_optimal_sigmas(int n, double sigma_min, double sigma_max) {
  check_steps("kl_optimal scheduler", n);
  const float atan_min = static_cast<float>(std::atan(sigma_min));
  const float atan_max = static_cast<float>(std::atan(sigma_max));
  const float denom = static_cast<float>(n - 1);
  std::vector<float> out(static_cast<size_t>(n) + 1, 0.0f);
  for (int i = 0; i < n; ++i) {
    const float adj = static_cast<float>(i) / denom;  // n == 1: 0/0 = NaN, as ComfyUI
    const float a = adj * atan_min;
    const float one_minus = 1.0f - adj;
    const float b = one_minus * atan_max;
    const float sum = a + b;
    out[static_cast<size_t>(i)] = std::tan(sum);
  }
  return out;
}

std::vector<float> polyexponential_sigmas(int n, double sigma_min, double sigma_max, double rho) {
  check_steps("polyexponential scheduler", n);
  std::vector<float> ramp = torch_linspace_f32(1.0f, 0.0f, n);
  if (rho != 1.0)
    for (float& r : ramp) r = static_cast<float>(std::pow(static_cast<double>(r), rho));
  const float span = static_cast<float>(std::log(sigma_max) - std::log(sigma_min));
  const float lmin = static_cast<float>(std::log(sigma_min));
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n) + 1);
  for (float r : ramp) {
    const float a = r * span;
    const float b = a + lmin;
    out.push_back(sleef_expf(b));
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> vp_sigmas(int n, double beta_d, double beta_min, double eps_s) {
  check_steps("vp scheduler", n);
  const std::vector<float> t = torch_linspace_f32(1.0f, static_cast<float>(eps_s), n);
  const float bd = static_cast<float>(beta_d), bm = static_cast<float>(beta_min);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n) + 1);
  for (float v : t) {
    const float t2 = v * v;
    const float a = bd * t2;
    const float a2 = a / 2.0f;
    const float b = bm * v;
    const float s = a2 + b;
    const float e = sleef_expf(s);
    const float em1 = e - 1.0f;
    out.push_back(std::sqrt(em1));
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> calculate_sigmas(const ModelSampling& ms, std::string_view scheduler, int steps) {
  const auto d = scheduler_registry().find(scheduler);
  if (!d)
    throw SamplingError("unknown scheduler '" + std::string(scheduler) + "' (valid: " +
                        scheduler_registry().names_list() + ")");
  return d->sigmas(ms, steps);
}

bool sampler_discards_penultimate(std::string_view sampler) {
  const auto d = sampler_registry().find(sampler);
  return d && d->discards_penultimate;
}

std::vector<float> ksampler_sigmas(const ModelSampling& ms, std::string_view scheduler, std::string_view sampler,
                                   int steps, double denoise) {
  auto full = [&](int n) {
    const bool discard = sampler_discards_penultimate(sampler);
    std::vector<float> s = calculate_sigmas(ms, scheduler, discard ? n + 1 : n);
    if (discard && s.size() >= 2) s.erase(s.end() - 2);
    return s;
  };
  if (std::isnan(denoise)) throw SamplingError("KSampler: denoise is NaN");
  if (denoise > 0.9999) return full(steps);
  if (denoise <= 0.0) return {};
  check_steps("KSampler", steps);
  const int new_steps = static_cast<int>(steps / denoise);  // python int(): truncation
  std::vector<float> s = full(new_steps);
  const size_t keep = std::min(s.size(), static_cast<size_t>(steps) + 1);
  return std::vector<float>(s.end() - static_cast<std::ptrdiff_t>(keep), s.end());
}

std::vector<float> slice_sigmas(std::vector<float> sigmas, int start_step, int last_step, bool force_full_denoise) {
  if (last_step >= 0 && static_cast<size_t>(last_step) + 1 < sigmas.size()) {
    sigmas.resize(static_cast<size_t>(last_step) + 1);
    if (force_full_denoise) sigmas.back() = 0.0f;
  }
  if (start_step >= 0) {
    if (static_cast<size_t>(start_step) + 1 < sigmas.size())
      sigmas.erase(sigmas.begin(), sigmas.begin() + start_step);
    else
      sigmas.clear();
  }
  return sigmas;
}

}  // namespace vkf::sampling
