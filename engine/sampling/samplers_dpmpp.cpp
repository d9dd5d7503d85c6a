// DPM-Solver++ family: dpmpp_2s_ancestral, dpmpp_sde, dpmpp_2m, dpmpp_2m_sde(_heun), dpmpp_3m_sde and
// the *_gpu aliases (ComfyUI k_diffusion/sampling.py). The _gpu variants differ from the plain ones only
// in where ComfyUI's default Brownian tree lives; with a NoiseSource they are the same function.
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

Tensor sample_dpmpp_2s_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    if (r.is_const()) {  // sample_dpmpp_2s_ancestral_RF
      const RfStep st = rf_step(s0, s1, eta);
      if (s1 == 0.0) return r.lin({{1.0 + (st.down - s0) / s0, x}, {-(st.down - s0) / s0, D}});
      double sigma_s;
      if (s0 == 1.0) {
        sigma_s = 0.9999;
      } else {
        auto lam = [](double s) { return std::log((1.0 - s) / s); };
        const double t_i = lam(s0), h = lam(st.down) - t_i, s = t_i + 0.5 * h;
        sigma_s = 1.0 / (std::exp(s) + 1.0);
      }
      const double q = sigma_s / s0;
      Tensor u = r.lin({{q, x}, {1.0 - q, D}});
      Tensor Di = r.denoise(u, sigma_s).denoised;
      return rf_ancestral_update(r, x, Di, s0, s1, st, eta, s_noise);
    }
    const Ancestral a = ancestral_step(s0, s1, eta);
    Tensor xd;
    if (a.down == 0.0) {
      const double dt = a.down - s0;
      xd = r.lin({{1.0 + dt / s0, x}, {-dt / s0, D}});
    } else {
      const double t = -std::log(s0), tn = -std::log(a.down), h = tn - t, s = t + 0.5 * h;
      Tensor x2 = r.lin({{std::exp(-s) / std::exp(-t), x}, {-std::expm1(-h * 0.5), D}});
      Tensor D2 = r.denoise(x2, std::exp(-s)).denoised;
      xd = r.lin({{std::exp(-tn) / std::exp(-t), x}, {-std::expm1(-h), D2}});
    }
    return add_ancestral_noise(r, xd, s0, s1, a.up, s_noise);
  });
}

Tensor sample_dpmpp_sde(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise, rr = r.opt.dpmpp_sde_r;
  const bool c = r.is_const(), inject = eta > 0.0 && s_noise > 0.0;
  return step_loop(r, std::move(x), offset_first_sigma(r), false,
                   [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    if (s1 == 0.0) return D;
    const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls;
    const double ls1 = ls + rr * h, fac = 1.0 / (2.0 * rr);
    const double ss1 = half_log_snr_to_sigma(ls1, c);
    const double as = s0 * std::exp(ls), as1 = ss1 * std::exp(ls1), at = s1 * std::exp(lt);
    // step 1: to the midpoint
    Ancestral a = ancestral_step(std::exp(-ls), std::exp(-ls1), eta);
    double h_ = -std::log(a.down) - ls;
    Tensor x2 = r.lin_noised({{(as1 / as) * std::exp(-h_), x}, {-as1 * std::expm1(-h_), D}}, inject, s0, ss1,
                             as1 * s_noise * a.up);
    Tensor D2 = r.denoise(x2, ss1).denoised;
    // step 2: with denoised_d = (1 - fac) D + fac D2
    a = ancestral_step(std::exp(-ls), std::exp(-lt), eta);
    h_ = -std::log(a.down) - ls;
    const double cd = -at * std::expm1(-h_);
    return r.lin_noised({{(at / as) * std::exp(-h_), x}, {cd * (1.0 - fac), D}, {cd * fac, D2}}, inject, s0, s1,
                        at * s_noise * a.up);
  });
}

Tensor sample_dpmpp_2m(Run& r, Tensor x) {
  Tensor old;
  return step_loop(r, std::move(x), [&](int i, double s0, double s1, const Tensor& x, const Tensor& D) {
    Tensor next = D;  // s1 = 0: (sigma_next/sigma) = 0, -expm1(-inf) = 1
    if (s1 != 0.0) {
      const double t = -std::log(s0), tn = -std::log(s1), h = tn - t, ratio = std::exp(-tn) / std::exp(-t);
      if (!old.defined()) {
        next = r.lin({{ratio, x}, {-std::expm1(-h), D}});
      } else {
        const double h_last = t + std::log(r.s[i - 1]), rk = h_last / h, e = -std::expm1(-h);
        next = r.lin({{ratio, x}, {e * (1.0 + 1.0 / (2.0 * rk)), D}, {-e / (2.0 * rk), old}});
      }
    }
    old = D;
    return next;
  });
}

// The first-order data-prediction SDE step of dpmpp_2m_sde / dpmpp_3m_sde in half-logSNR time:
// (s1/s0) e^(-h eta) x + alpha_t (1 - e^(-h (1 + eta))) D; the multistep corrections fold into terms[1].
std::vector<Tm> sde_step_terms(const Tensor& x, const Tensor& D, double s0, double s1, double h, double eta,
                               double alpha_t) {
  return {{s1 / s0 * std::exp(-h * eta), x}, {alpha_t * -std::expm1(-h * (eta + 1.0)), D}};
}

Tensor dpmpp_2m_sde(Run& r, Tensor x, bool heun) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  const bool c = r.is_const();
  Tensor old;
  double h = 0.0, h_last = 0.0;
  return step_loop(r, std::move(x), offset_first_sigma(r), false,
                   [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    Tensor next = D;
    if (s1 != 0.0) {
      const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c);
      h = lt - ls;
      const double h_eta = h * (eta + 1.0), at = s1 * std::exp(lt), e = -std::expm1(-h_eta);
      std::vector<Tm> terms = sde_step_terms(x, D, s0, s1, h, eta, at);
      if (old.defined()) {
        const double rk = h_last / h;
        add_difference(terms, 1, heun ? at * (e / (-h_eta) + 1.0) / rk : 0.5 * at * e / rk, old);
      }
      next = r.lin_noised(std::move(terms), eta > 0.0 && s_noise > 0.0, s0, s1, s1 * sde_noise_frac(h * eta) * s_noise);
    }
    old = D;
    h_last = h;
    return next;
  });
}
Tensor sample_dpmpp_2m_sde(Run& r, Tensor x) { return dpmpp_2m_sde(r, std::move(x), false); }
Tensor sample_dpmpp_2m_sde_heun(Run& r, Tensor x) { return dpmpp_2m_sde(r, std::move(x), true); }

Tensor sample_dpmpp_3m_sde(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  const bool c = r.is_const();
  Tensor D1, D2;                     // previous two denoised
  bool has_h1 = false, has_h2 = false;  // h_1 / h_2 not None
  double h = 0.0, h1 = 0.0, h2 = 0.0;
  return step_loop(r, std::move(x), offset_first_sigma(r), false,
                   [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    Tensor next = D;
    bool h_set = false;
    if (s1 != 0.0) {
      const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c);
      h = lt - ls;
      h_set = true;
      const double h_eta = h * (eta + 1.0), at = s1 * std::exp(lt);
      std::vector<Tm> terms = sde_step_terms(x, D, s0, s1, h, eta, at);
      const double phi2 = std::expm1(-h_eta) / h_eta + 1.0;
      if (has_h2) {  // 3M: A*d1 - B*d2 expanded over D, D1, D2
        const double r0 = h1 / h, r1 = h2 / h, A = at * phi2, B = at * (phi2 / h_eta - 0.5);
        const double k = r0 / (r0 + r1);
        const double p = A * (1.0 + k) - B / (r0 + r1), q = -A * k + B / (r0 + r1);
        terms[1].c += p / r0;
        terms.push_back({-p / r0 + q / r1, D1});
        terms.push_back({-q / r1, D2});
      } else if (has_h1) {  // 2M
        add_difference(terms, 1, at * phi2 / (h1 / h), D1);
      }
      next = r.lin_noised(std::move(terms), eta > 0.0 && s_noise > 0.0, s0, s1, s1 * sde_noise_frac(h * eta) * s_noise);
    }
    D2 = D1;
    D1 = D;
    // h_1, h_2 = h, h_1 (h keeps its last value on the final step, as in ComfyUI)
    has_h2 = has_h1;
    h2 = h1;
    has_h1 = has_h1 || h_set;
    h1 = h;
    return next;
  });
}

}  // namespace

std::vector<SamplerEntry> dpmpp_family() {
  return {{13, "dpmpp_2s_ancestral", sample_dpmpp_2s_ancestral, kNoise},
          {15, "dpmpp_sde", sample_dpmpp_sde, kNoise},
          {16, "dpmpp_sde_gpu", sample_dpmpp_sde, kNoise},
          {17, "dpmpp_2m", sample_dpmpp_2m, kOde},
          {19, "dpmpp_2m_sde", sample_dpmpp_2m_sde, kNoise},
          {20, "dpmpp_2m_sde_gpu", sample_dpmpp_2m_sde, kNoise},
          {21, "dpmpp_2m_sde_heun", sample_dpmpp_2m_sde_heun, kNoise},
          {22, "dpmpp_2m_sde_heun_gpu", sample_dpmpp_2m_sde_heun, kNoise},
          {23, "dpmpp_3m_sde", sample_dpmpp_3m_sde, kNoise},
          {24, "dpmpp_3m_sde_gpu", sample_dpmpp_3m_sde, kNoise}};
}

}  // namespace vkf::sampling::detail
