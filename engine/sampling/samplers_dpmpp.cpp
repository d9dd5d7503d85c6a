// DPM-Solver++ family: dpmpp_2s_ancestral, dpmpp_sde, dpmpp_2m, dpmpp_2m_sde(_heun), dpmpp_3m_sde and
// the *_gpu aliases (ComfyUI k_diffusion/sampling.py). The _gpu variants differ from the plain ones only
// in where ComfyUI's default Brownian tree lives; with a NoiseSource they are the same function.
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

Tensor sample_dpmpp_2s_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (r.is_const()) {  // sample_dpmpp_2s_ancestral_RF
      const double down = s1 * (1.0 + (s1 / s0 - 1.0) * eta);
      const double a1 = 1.0 - s1, ad = 1.0 - down;
      const double renoise = std::sqrt(s1 * s1 - down * down * a1 * a1 / (ad * ad));
      if (s1 == 0.0) {
        x = r.lin({{1.0 + (down - s0) / s0, x}, {-(down - s0) / s0, D}});
      } else {
        double sigma_s;
        if (s0 == 1.0) {
          sigma_s = 0.9999;
        } else {
          auto lam = [](double s) { return std::log((1.0 - s) / s); };
          const double t_i = lam(s0), h = lam(down) - t_i, s = t_i + 0.5 * h;
          sigma_s = 1.0 / (std::exp(s) + 1.0);
        }
        const double q = sigma_s / s0;
        Tensor u = r.lin({{q, x}, {1.0 - q, D}});
        Tensor Di = r.denoise(u, sigma_s).denoised;
        const double qd = down / s0;
        if (eta > 0.0) {
          Tensor n = r.noise(s0, s1);
          const double ar = a1 / ad;
          x = r.lin({{ar * qd, x}, {ar * (1.0 - qd), Di}, {s_noise * renoise, n}});
        } else {
          x = r.lin({{qd, x}, {1.0 - qd, Di}});
        }
      }
    } else {
      const Ancestral a = ancestral_step(s0, s1, eta);
      if (a.down == 0.0) {
        const double dt = a.down - s0;
        x = r.lin({{1.0 + dt / s0, x}, {-dt / s0, D}});
      } else {
        const double t = -std::log(s0), tn = -std::log(a.down), h = tn - t, s = t + 0.5 * h;
        Tensor x2 = r.lin({{std::exp(-s) / std::exp(-t), x}, {-std::expm1(-h * 0.5), D}});
        Tensor D2 = r.denoise(x2, std::exp(-s)).denoised;
        x = r.lin({{std::exp(-tn) / std::exp(-t), x}, {-std::expm1(-h), D2}});
      }
      if (s1 > 0.0 && a.up != 0.0) {  // ComfyUI also calls the sampler when eta = 0 (times 0): skipped
        Tensor n = r.noise(s0, s1);
        x = r.lin({{1.0, x}, {s_noise * a.up, n}});
      }
    }
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_dpmpp_sde(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise, rr = r.opt.dpmpp_sde_r;
  const bool c = r.is_const(), inject = eta > 0.0 && s_noise > 0.0;
  const std::vector<double> sg = offset_first_sigma(r);
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[i], s1 = sg[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = D;
    } else {
      const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c), h = lt - ls;
      const double ls1 = ls + rr * h, fac = 1.0 / (2.0 * rr);
      const double ss1 = half_log_snr_to_sigma(ls1, c);
      const double as = s0 * std::exp(ls), as1 = ss1 * std::exp(ls1), at = s1 * std::exp(lt);
      // step 1: to the midpoint
      Ancestral a = ancestral_step(std::exp(-ls), std::exp(-ls1), eta);
      double h_ = -std::log(a.down) - ls;
      std::vector<Tm> t1{{(as1 / as) * std::exp(-h_), x}, {-as1 * std::expm1(-h_), D}};
      Tensor n1;
      if (inject) {
        n1 = r.noise(s0, ss1);
        t1.push_back({as1 * s_noise * a.up, n1});
      }
      Tensor x2 = r.lin(t1);
      Tensor D2 = r.denoise(x2, ss1).denoised;
      // step 2: with denoised_d = (1 - fac) D + fac D2
      a = ancestral_step(std::exp(-ls), std::exp(-lt), eta);
      h_ = -std::log(a.down) - ls;
      const double cd = -at * std::expm1(-h_);
      std::vector<Tm> t2{{(at / as) * std::exp(-h_), x}, {cd * (1.0 - fac), D}, {cd * fac, D2}};
      Tensor n2;
      if (inject) {
        n2 = r.noise(s0, s1);
        t2.push_back({at * s_noise * a.up, n2});
      }
      x = r.lin(t2);
    }
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_dpmpp_2m(Run& r, Tensor x) {
  Tensor old;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = D;  // (sigma_next/sigma) = 0, -expm1(-inf) = 1
    } else {
      const double t = -std::log(s0), tn = -std::log(s1), h = tn - t, ratio = std::exp(-tn) / std::exp(-t);
      if (!old.defined()) {
        x = r.lin({{ratio, x}, {-std::expm1(-h), D}});
      } else {
        const double h_last = t + std::log(r.s[i - 1]), rk = h_last / h, e = -std::expm1(-h);
        x = r.lin({{ratio, x}, {e * (1.0 + 1.0 / (2.0 * rk)), D}, {-e / (2.0 * rk), old}});
      }
    }
    old = D;
    r.end_step(i, x, D);
  }
  return x;
}

Tensor dpmpp_2m_sde(Run& r, Tensor x, bool heun) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  const bool c = r.is_const();
  const std::vector<double> sg = offset_first_sigma(r);
  Tensor old;
  double h = 0.0, h_last = 0.0;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[i], s1 = sg[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = D;
    } else {
      const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c);
      h = lt - ls;
      const double h_eta = h * (eta + 1.0), at = s1 * std::exp(lt), e = -std::expm1(-h_eta);
      std::vector<Tm> terms{{s1 / s0 * std::exp(-h * eta), x}, {at * e, D}};
      if (old.defined()) {
        const double rk = h_last / h;
        const double k = heun ? at * (e / (-h_eta) + 1.0) / rk : 0.5 * at * e / rk;
        terms[1].c += k;
        terms.push_back({-k, old});
      }
      Tensor n;
      if (eta > 0.0 && s_noise > 0.0) {
        n = r.noise(s0, s1);
        terms.push_back({s1 * std::sqrt(-std::expm1(-2.0 * h * eta)) * s_noise, n});
      }
      x = r.lin(terms);
    }
    old = D;
    h_last = h;
    r.end_step(i, x, D);
  }
  return x;
}
Tensor sample_dpmpp_2m_sde(Run& r, Tensor x) { return dpmpp_2m_sde(r, std::move(x), false); }
Tensor sample_dpmpp_2m_sde_heun(Run& r, Tensor x) { return dpmpp_2m_sde(r, std::move(x), true); }

Tensor sample_dpmpp_3m_sde(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  const bool c = r.is_const();
  const std::vector<double> sg = offset_first_sigma(r);
  Tensor D1, D2;                     // previous two denoised
  bool has_h1 = false, has_h2 = false;  // h_1 / h_2 not None
  double h = 0.0, h1 = 0.0, h2 = 0.0;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = sg[i], s1 = sg[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    bool h_set = false;
    if (s1 == 0.0) {
      x = D;
    } else {
      const double ls = half_log_snr(s0, c), lt = half_log_snr(s1, c);
      h = lt - ls;
      h_set = true;
      const double h_eta = h * (eta + 1.0), at = s1 * std::exp(lt);
      std::vector<Tm> terms{{s1 / s0 * std::exp(-h * eta), x}, {at * -std::expm1(-h_eta), D}};
      const double phi2 = std::expm1(-h_eta) / h_eta + 1.0;
      if (has_h2) {  // 3M: A*d1 - B*d2 expanded over D, D1, D2
        const double r0 = h1 / h, r1 = h2 / h, A = at * phi2, B = at * (phi2 / h_eta - 0.5);
        const double k = r0 / (r0 + r1);
        const double p = A * (1.0 + k) - B / (r0 + r1), q = -A * k + B / (r0 + r1);
        terms[1].c += p / r0;
        terms.push_back({-p / r0 + q / r1, D1});
        terms.push_back({-q / r1, D2});
      } else if (has_h1) {  // 2M
        const double k = at * phi2 / (h1 / h);
        terms[1].c += k;
        terms.push_back({-k, D1});
      }
      Tensor n;
      if (eta > 0.0 && s_noise > 0.0) {
        n = r.noise(s0, s1);
        terms.push_back({s1 * std::sqrt(-std::expm1(-2.0 * h * eta)) * s_noise, n});
      }
      x = r.lin(terms);
    }
    D2 = D1;
    D1 = D;
    // h_1, h_2 = h, h_1 (h keeps its last value on the final step, as in ComfyUI)
    has_h2 = has_h1;
    h2 = h1;
    has_h1 = has_h1 || h_set;
    h1 = h;
    r.end_step(i, x, D);
  }
  return x;
}

}  // namespace

std::vector<SamplerEntry> dpmpp_family() {
  return {{"dpmpp_2s_ancestral", sample_dpmpp_2s_ancestral},
          {"dpmpp_sde", sample_dpmpp_sde},
          {"dpmpp_sde_gpu", sample_dpmpp_sde},
          {"dpmpp_2m", sample_dpmpp_2m},
          {"dpmpp_2m_sde", sample_dpmpp_2m_sde},
          {"dpmpp_2m_sde_gpu", sample_dpmpp_2m_sde},
          {"dpmpp_2m_sde_heun", sample_dpmpp_2m_sde_heun},
          {"dpmpp_2m_sde_heun_gpu", sample_dpmpp_2m_sde_heun},
          {"dpmpp_3m_sde", sample_dpmpp_3m_sde},
          {"dpmpp_3m_sde_gpu", sample_dpmpp_3m_sde}};
}

}  // namespace vkf::sampling::detail
