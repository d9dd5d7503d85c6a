// UniPC multistep (bh1 / bh2 variants), ComfyUI comfy/extra_samplers/uni_pc.py sample_unipc: data
// prediction, corrector on every update but the last, lower_order_final, order = min(3, len(sigmas) - 2).
// The solver state lives in VP scale x_vp = x / sqrt(1 + sigma^2) (ComfyUI's SigmaConvert schedule over
// the sigmas themselves); the final sigma 0 is replaced by 0.001 and the result divided by alpha(0.001).
// The data prediction of the wrapped EPS model is D(x_vp * sqrt(1 + sigma^2), sigma) exactly.
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

// SigmaConvert (float64, same operation order as ComfyUI).
double log_mean_coeff(double s) { return 0.5 * std::log(1.0 / (s * s + 1.0)); }
double alpha_of(double s) { return std::exp(log_mean_coeff(s)); }
double std_of(double s) { return std::sqrt(1.0 - std::exp(2.0 * log_mean_coeff(s))); }
double lambda_of(double s) {
  const double lm = log_mean_coeff(s);
  return lm - 0.5 * std::log(1.0 - std::exp(2.0 * lm));
}

struct UniPC {
  Run& r;
  bool bh2;
  std::vector<Tensor> models;  // model_prev_list (data predictions), oldest first
  std::vector<double> ts;      // t_prev_list (sigmas)

  Tensor model_fn(const Tensor& x_vp, double t) {
    Tensor xk = r.lin({{std::sqrt(t * t + 1.0), x_vp}});
    return r.denoise(xk, t).denoised;
  }

  // multistep_uni_pc_bh_update; returns x_t and (when the corrector ran) model_t.
  std::pair<Tensor, Tensor> update(const Tensor& x, double t, int order, bool use_corrector) {
    const double tp0 = ts.back(), lp0 = lambda_of(tp0), lt = lambda_of(t);
    const Tensor& m0 = models.back();
    const double sp0 = std_of(tp0), st = std_of(t), at = alpha_of(t), h = lt - lp0;
    std::vector<double> rks;
    for (int i = 1; i < order; ++i) rks.push_back((lambda_of(ts[ts.size() - 1 - size_t(i)]) - lp0) / h);
    rks.push_back(1.0);
    const double hh = -h, h_phi_1 = std::expm1(hh), B_h = bh2 ? std::expm1(hh) : hh;
    std::vector<std::vector<double>> R;
    std::vector<double> b;
    double h_phi_k = std::expm1(hh) / hh - 1.0, fact = 1.0;
    for (int i = 1; i <= order; ++i) {
      std::vector<double> row;
      for (double rk : rks) row.push_back(std::pow(rk, i - 1));
      R.push_back(row);
      b.push_back(h_phi_k * fact / B_h);
      fact *= (i + 1);
      h_phi_k = h_phi_k / hh - 1.0 / fact;
    }
    const int K = order - 1;  // number of D1s
    // x_t_ = (st/sp0) x - at*h_phi_1*m0 ; residual term: -at*B_h * sum_k rho_k (m_k - m0)/rk_k
    auto with_res = [&](const std::vector<double>& rho, int n_rho, const Tensor* model_t, double rho_t) {
      std::vector<Tm> terms{{st / sp0, x}, {-at * h_phi_1, m0}};
      const double g = -at * B_h;
      for (int k = 0; k < n_rho; ++k) {
        const double w = g * rho[size_t(k)] / rks[size_t(k)];
        terms.push_back({w, models[models.size() - 2 - size_t(k)]});
        terms[1].c -= w;
      }
      if (model_t) {  // + g * rho_t * (model_t - m0)
        terms.push_back({g * rho_t, *model_t});
        terms[1].c -= g * rho_t;
      }
      return r.lin(terms);
    };
    Tensor x_t;
    if (K > 0) {
      std::vector<double> rhos_p;
      if (order == 2) {
        rhos_p = {0.5};
      } else {
        std::vector<std::vector<double>> Rp(static_cast<size_t>(K));
        for (int i = 0; i < K; ++i) Rp[size_t(i)].assign(R[size_t(i)].begin(), R[size_t(i)].begin() + K);
        rhos_p = solve_linear(Rp, std::vector<double>(b.begin(), b.begin() + K));
      }
      x_t = with_res(rhos_p, K, nullptr, 0.0);
    } else {
      x_t = with_res({}, 0, nullptr, 0.0);
    }
    if (!use_corrector) return {x_t, Tensor()};
    const std::vector<double> rhos_c = order == 1 ? std::vector<double>{0.5} : solve_linear(R, b);
    Tensor model_t = model_fn(x_t, t);
    return {with_res(rhos_c, K, &model_t, rhos_c.back()), model_t};
  }
};

Tensor unipc(Run& r, Tensor x, bool bh2) {
  std::vector<double> t = r.s;
  if (t.back() == 0.0) t.back() = 0.001;
  const int steps = int(t.size()) - 1, order = std::min(3, int(t.size()) - 2);
  if (steps < order) throw SamplingError("uni_pc: too few sigmas");
  UniPC u{r, bh2, {}, {}};
  x = r.lin({{1.0 / std::sqrt(1.0 + t[0] * t[0]), x}});
  int done = 0;  // updates so far (= callback step index)
  auto report = [&](const Tensor& xv, double tt, const Tensor& D) {
    // state in k-diffusion scale for the callback: x_vp / alpha(t)
    if (r.env.callback) {
      Tensor xk = r.lin({{1.0 / alpha_of(tt), xv}});
      r.end_step(done++, xk, D);
    } else {
      r.end_step(done++, xv, D);
    }
  };
  for (int si = 0; si < steps; ++si) {
    if (si == 0) {
      u.models = {u.model_fn(x, t[0])};
      u.ts = {t[0]};
    } else if (si < order) {
      auto [xn, mx] = u.update(x, t[size_t(si)], si, true);
      x = xn;
      if (!mx.defined()) mx = u.model_fn(x, t[size_t(si)]);
      u.models.push_back(mx);
      u.ts.push_back(t[size_t(si)]);
      report(x, t[size_t(si)], mx);
    } else {
      const int extra = si == steps - 1 ? 1 : 0;
      for (int step = si; step <= si + extra; ++step) {
        const int step_order = std::min(order, steps + 1 - step);
        const bool use_corrector = step != steps;
        auto [xn, mx] = u.update(x, t[size_t(step)], step_order, use_corrector);
        x = xn;
        for (int i = 0; i + 1 < order; ++i) {
          u.ts[size_t(i)] = u.ts[size_t(i) + 1];
          u.models[size_t(i)] = u.models[size_t(i) + 1];
        }
        u.ts.back() = t[size_t(step)];
        if (step < steps) {
          if (!mx.defined()) mx = u.model_fn(x, t[size_t(step)]);
          u.models.back() = mx;
        }
        report(x, t[size_t(step)], u.models.back());
      }
    }
  }
  return r.lin({{1.0 / alpha_of(t.back()), x}});
}

Tensor sample_uni_pc(Run& r, Tensor x) { return unipc(r, std::move(x), false); }
Tensor sample_uni_pc_bh2(Run& r, Tensor x) { return unipc(r, std::move(x), true); }

}  // namespace

std::vector<SamplerEntry> unipc_family() { return {{42, "uni_pc", sample_uni_pc, kDiscardPenultimate}, {43, "uni_pc_bh2", sample_uni_pc_bh2, kDiscardPenultimate}}; }

}  // namespace vkf::sampling::detail
