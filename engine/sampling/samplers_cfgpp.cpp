// CFG++ samplers (arXiv 2406.08070): the update renoises with the unconditional prediction D_u
// (ComfyUI's post-CFG "uncond_denoised") instead of the guided one. euler_cfg_pp, euler_ancestral_cfg_pp,
// dpmpp_2s_ancestral_cfg_pp, dpmpp_2m_cfg_pp here; res_multistep(_ancestral)_cfg_pp and
// gradient_estimation_cfg_pp share their base samplers' code (samplers_multistep.cpp).
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

Tensor euler_ancestral_cfg_pp(Run& r, Tensor x, double eta, double s_noise) {
  const bool c = r.is_const();
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Denoised dn = r.denoise(x, s0, true);
    if (s1 == 0.0) {
      x = dn.denoised;
    } else {
      const double as = s0 * std::exp(half_log_snr(s0, c)), at = s1 * std::exp(half_log_snr(s1, c));
      Ancestral a = ancestral_step(s0 / as, s1 / at, eta);
      const double down = at * a.down;
      // alpha_t * D + down * (x - alpha_s * D_u) / s0
      std::vector<Tm> terms{{at, dn.denoised}, {down / s0, x}, {-down * as / s0, dn.uncond}};
      Tensor n;
      if (eta > 0.0 && s_noise > 0.0) {
        n = r.noise(s0, s1);
        terms.push_back({at * s_noise * a.up, n});
      }
      x = r.lin(terms);
    }
    r.end_step(i, x, dn.denoised);
  }
  return x;
}
Tensor sample_euler_cfg_pp(Run& r, Tensor x) { return euler_ancestral_cfg_pp(r, std::move(x), 0.0, 0.0); }
Tensor sample_euler_ancestral_cfg_pp(Run& r, Tensor x) {
  return euler_ancestral_cfg_pp(r, std::move(x), r.eta(1.0), r.opt.s_noise);
}

Tensor sample_dpmpp_2s_ancestral_cfg_pp(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Denoised dn = r.denoise(x, s0, true);
    const Tensor& D = dn.denoised;
    const Ancestral a = ancestral_step(s0, s1, eta);
    if (a.down == 0.0) {  // D + (x - D_u)/s0 * down
      x = r.lin({{a.down / s0, x}, {1.0, D}, {-a.down / s0, dn.uncond}});
    } else {
      const double t = -std::log(s0), tn = -std::log(a.down), h = tn - t, s = t + 0.5 * h;
      const double q = std::exp(-s) / std::exp(-t);
      Tensor x2 = r.lin({{q, x}, {q - std::expm1(-h * 0.5), D}, {-q, dn.uncond}});
      // ComfyUI's post-CFG hook has replaced the stored uncond with the second call's by now.
      Denoised dn2 = r.denoise(x2, std::exp(-s), true);
      const double qn = std::exp(-tn) / std::exp(-t);
      x = r.lin({{qn, x}, {qn, D}, {-qn, dn2.uncond}, {-std::expm1(-h), dn2.denoised}});
    }
    if (s1 > 0.0 && a.up != 0.0) {  // ComfyUI also calls the sampler when eta = 0 (times 0): skipped
      Tensor n = r.noise(s0, s1);
      x = r.lin({{1.0, x}, {s_noise * a.up, n}});
    }
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_dpmpp_2m_cfg_pp(Run& r, Tensor x) {
  Tensor old_u;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Denoised dn = r.denoise(x, s0, true);
    const Tensor& D = dn.denoised;
    if (s1 == 0.0) {
      x = D;  // exp(-h) = 0
    } else {
      const double t = -std::log(s0), tn = -std::log(s1), h = tn - t, e = std::exp(-h);
      // D - e*D_u [- expm1(-h)/(2r) * (D - old_u)] + e*x
      std::vector<Tm> terms{{e, x}, {1.0, D}, {-e, dn.uncond}};
      if (old_u.defined()) {
        const double h_last = t + std::log(r.s[i - 1]), k = -std::expm1(-h) / (2.0 * (h_last / h));
        terms[1].c += k;
        terms.push_back({-k, old_u});
      }
      x = r.lin(terms);
    }
    old_u = dn.uncond;
    r.end_step(i, x, D);
  }
  return x;
}

}  // namespace

std::vector<SamplerEntry> cfgpp_family() {
  return {{"euler_cfg_pp", sample_euler_cfg_pp},
          {"euler_ancestral_cfg_pp", sample_euler_ancestral_cfg_pp},
          {"dpmpp_2s_ancestral_cfg_pp", sample_dpmpp_2s_ancestral_cfg_pp},
          {"dpmpp_2m_cfg_pp", sample_dpmpp_2m_cfg_pp}};
}

}  // namespace vkf::sampling::detail
