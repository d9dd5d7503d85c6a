// DPM-Solver (arXiv 2206.00927) in eps form over t = -log(sigma): dpm_fast (fixed orders 3..3,2,1 on a
// uniform t grid) and dpm_adaptive (embedded 2/3-order pair with a PID step-size controller), as ComfyUI's
// ksampler() wraps them: sigma_min = the last non-zero sigma, sigma_max = sigmas[0]; both end at sigma_min.
#include <map>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {

double error_sum_sq(vk::Recorder& rec, const Tensor& lo, const Tensor& hi, const Tensor& prev, double atol,
                    double rtol) {
  if (lo.dtype() != DType::F32 || hi.dtype() != DType::F32 || prev.dtype() != DType::F32)
    throw SamplingError("dpm_adaptive error norm: F32 tensors expected");
  struct Push {
    uint32_t n;
    float atol, rtol;
    uint32_t f0, f1, f2;
  };
  auto& ctx = rec.context();
  Tensor out = empty(ctx, {1}, DType::F32);
  auto a = ops::bind_all(ctx, lo, false, "dpm_adaptive error"), b = ops::bind_all(ctx, hi, false, "dpm_adaptive error");
  auto c = ops::bind_all(ctx, prev, false, "dpm_adaptive error"), o = ops::bind_all(ctx, out, true, "dpm_adaptive error");
  Push p{uint32_t(lo.numel()), float(atol), float(rtol), a.first, b.first, c.first};
  constexpr uint32_t kLocal = 256;
  vk::PipelineDesc d{"sampler_error_norm", 4, sizeof(Push), {{0, kLocal}}};
  rec.dispatch(d, {a.arg, b.arg, c.arg, o.arg}, &p, sizeof p, 1, 1, 1, "sampler_error_norm");
  rec.submit();
  return double(to_host(ctx, out)[0]);
}

namespace {

struct DpmSolver {
  Run& r;
  static double sigma(double t) { return std::exp(-t); }
  static double t_of(double s) { return -std::log(s); }
  std::map<std::string, Tensor> cache;  // eps per stage key, cleared per step (ComfyUI's eps_cache)
  Tensor first_D;

  const Tensor& eps(const std::string& key, const Tensor& x, double t) {
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const double s = sigma(t);
    Tensor D = r.denoise(x, s).denoised;
    if (key == "eps") first_D = D;
    return cache[key] = r.lin({{1.0 / s, x}, {-1.0 / s, D}});
  }
  Tensor step1(const Tensor& x, double t, double tn) {
    const Tensor& e = eps("eps", x, t);
    return r.lin({{1.0, x}, {-sigma(tn) * std::expm1(tn - t), e}});
  }
  Tensor step2(const Tensor& x, double t, double tn, double r1) {
    const double h = tn - t;
    Tensor e = eps("eps", x, t);
    const double s1 = t + r1 * h;
    Tensor u1 = r.lin({{1.0, x}, {-sigma(s1) * std::expm1(r1 * h), e}});
    const Tensor& e1 = eps("eps_r1", u1, s1);
    const double a = -sigma(tn) * std::expm1(h), k = -sigma(tn) / (2.0 * r1) * std::expm1(h);
    return r.lin({{1.0, x}, {a - k, e}, {k, e1}});
  }
  Tensor step3(const Tensor& x, double t, double tn) {
    const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0, h = tn - t;
    Tensor e = eps("eps", x, t);
    const double s1 = t + r1 * h, s2 = t + r2 * h;
    Tensor u1 = r.lin({{1.0, x}, {-sigma(s1) * std::expm1(r1 * h), e}});
    Tensor e1 = eps("eps_r1", u1, s1);
    const double k2 = -sigma(s2) * (r2 / r1) * (std::expm1(r2 * h) / (r2 * h) - 1.0);
    Tensor u2 = r.lin({{1.0, x}, {-sigma(s2) * std::expm1(r2 * h) - k2, e}, {k2, e1}});
    const Tensor& e2 = eps("eps_r2", u2, s2);
    const double k3 = -sigma(tn) / r2 * (std::expm1(h) / h - 1.0);
    return r.lin({{1.0, x}, {-sigma(tn) * std::expm1(h) - k3, e}, {k3, e2}});
  }
};

// ComfyUI's sigma_min: sigmas[-1], or sigmas[-2] when the last is 0.
double last_nonzero(const std::vector<double>& s) { return s.back() == 0.0 ? s[s.size() - 2] : s.back(); }

Tensor sample_dpm_fast(Run& r, Tensor x) {
  const double eta = r.eta(0.0), s_noise = r.opt.s_noise;
  const double smin = last_nonzero(r.s), smax = r.s[0];
  if (smin <= 0.0 || smax <= 0.0) throw SamplingError("dpm_fast: sigma_min and sigma_max must not be 0");
  const int nfe = r.steps();
  const double t_start = DpmSolver::t_of(smax), t_end = DpmSolver::t_of(smin);
  const int m = nfe / 3 + 1;
  const std::vector<double> ts = torch_linspace_f64(t_start, t_end, m + 1);
  std::vector<int> orders;
  if (nfe % 3 == 0) {
    orders.assign(size_t(std::max(0, m - 2)), 3);
    orders.push_back(2);
    orders.push_back(1);
  } else {
    orders.assign(size_t(m - 1), 3);
    orders.push_back(nfe % 3);
  }
  DpmSolver dpm{r, {}, {}};
  const int total = int(orders.size());
  for (int i = 0; i < total; ++i) {
    dpm.cache.clear();
    const double t = ts[size_t(i)], tn = ts[size_t(i) + 1];
    double tn_ = tn, su = 0.0;
    if (eta != 0.0) {
      const Ancestral a = ancestral_step(DpmSolver::sigma(t), DpmSolver::sigma(tn), eta);
      tn_ = std::min(t_end, DpmSolver::t_of(a.down));
      su = std::sqrt(DpmSolver::sigma(tn) * DpmSolver::sigma(tn) - DpmSolver::sigma(tn_) * DpmSolver::sigma(tn_));
    }
    dpm.eps("eps", x, t);
    x = orders[size_t(i)] == 1 ? dpm.step1(x, t, tn_) : orders[size_t(i)] == 2 ? dpm.step2(x, t, tn_, 0.5)
                                                                               : dpm.step3(x, t, tn_);
    if (su != 0.0) {
      Tensor n = r.noise(DpmSolver::sigma(t), DpmSolver::sigma(tn));
      x = r.lin({{1.0, x}, {su * s_noise, n}});
    }
    r.end_step(i, total, x, dpm.first_D);
  }
  return x;
}

// PIDStepSizeController.
struct Pid {
  double h, b1, b2, b3, accept_safety, eps = 1e-8;
  std::vector<double> errs;
  bool propose(double error) {
    const double inv = 1.0 / (error + eps);
    if (errs.empty()) errs = {inv, inv, inv};
    errs[0] = inv;
    double factor = std::pow(errs[0], b1) * std::pow(errs[1], b2) * std::pow(errs[2], b3);
    factor = 1.0 + std::atan(factor - 1.0);
    const bool accept = factor >= accept_safety;
    if (accept) {
      errs[2] = errs[1];
      errs[1] = errs[0];
    }
    h *= factor;
    return accept;
  }
};

Tensor sample_dpm_adaptive(Run& r, Tensor x) {
  const SamplerOptions& o = r.opt;
  const double eta = r.eta(0.0), smin = last_nonzero(r.s), smax = r.s[0];
  if (smin <= 0.0 || smax <= 0.0) throw SamplingError("dpm_adaptive: sigma_min and sigma_max must not be 0");
  if (o.adaptive_order != 2 && o.adaptive_order != 3) throw SamplingError("dpm_adaptive: order should be 2 or 3");
  const double t_start = DpmSolver::t_of(smax), t_end = DpmSolver::t_of(smin);
  const bool forward = t_end > t_start;
  if (!forward && eta != 0.0) throw SamplingError("dpm_adaptive: eta must be 0 for reverse sampling");
  const double order = eta != 0.0 ? 1.5 : o.adaptive_order;
  Pid pid{std::fabs(o.h_init) * (forward ? 1 : -1), (o.pcoeff + o.icoeff + o.dcoeff) / order,
          -(o.pcoeff + 2 * o.dcoeff) / order, o.dcoeff / order, o.accept_safety};
  double s = t_start;
  Tensor x_prev = x;
  DpmSolver dpm{r, {}, {}};
  int accepted = 0;
  const double n_el = double(x.numel());
  // The eps at s is recomputed by ComfyUI after a rejection; it is the same value, so it is kept.
  bool keep_eps = false;
  while (forward ? s < t_end - 1e-5 : s > t_end + 1e-5) {
    if (keep_eps) {
      dpm.cache.erase("eps_r1");
      dpm.cache.erase("eps_r2");
    } else {
      dpm.cache.clear();
    }
    const double t = forward ? std::min(t_end, s + pid.h) : std::max(t_end, s + pid.h);
    double t_ = t, su = 0.0;
    if (eta != 0.0) {
      const Ancestral a = ancestral_step(DpmSolver::sigma(s), DpmSolver::sigma(t), eta);
      t_ = std::min(t_end, DpmSolver::t_of(a.down));
      su = std::sqrt(DpmSolver::sigma(t) * DpmSolver::sigma(t) - DpmSolver::sigma(t_) * DpmSolver::sigma(t_));
    }
    dpm.eps("eps", x, s);
    Tensor lo, hi;
    if (o.adaptive_order == 2) {
      lo = dpm.step1(x, s, t_);
      hi = dpm.step2(x, s, t_, 0.5);
    } else {
      lo = dpm.step2(x, s, t_, 1.0 / 3.0);
      hi = dpm.step3(x, s, t_);
    }
    // error = ||(lo - hi) / delta|| / sqrt(numel) (GPU reduction, one scalar read back)
    const double error = std::sqrt(error_sum_sq(r.rec(), lo, hi, x_prev, o.atol, o.rtol) / n_el);
    const bool accept = pid.propose(error);
    if (accept) {
      x_prev = lo;
      if (su != 0.0) {
        Tensor n = r.noise(DpmSolver::sigma(s), DpmSolver::sigma(t));
        x = r.lin({{1.0, hi}, {su * o.s_noise, n}});
      } else {
        x = hi;
      }
      s = t;
      keep_eps = false;
      r.end_step(accepted++, -1, x, dpm.first_D);
    } else {
      keep_eps = true;
    }
  }
  return x;
}

}  // namespace

std::vector<SamplerEntry> dpm_solver_family() {
  return {{11, "dpm_fast", sample_dpm_fast, kNoise}, {12, "dpm_adaptive", sample_dpm_adaptive, kNoise}};
}

}  // namespace vkf::sampling::detail
