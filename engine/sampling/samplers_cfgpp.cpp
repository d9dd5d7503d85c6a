// CFG++ samplers (arXiv 2406.08070): the update renoises with the unconditional prediction D_u
// (ComfyUI's post-CFG "uncond_denoised") instead of the guided one. euler_cfg_pp, euler_ancestral_cfg_pp,
// dpmpp_2s_ancestral_cfg_pp, dpmpp_2m_cfg_pp here; res_multistep(_ancestral)_cfg_pp and
// gradient_estimation_cfg_pp share their base samplers' code (samplers_multistep.cpp).
#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

Tensor euler_ancestral_cfg_pp(Run& r, Tensor x, double eta, double s_noise) {
  const bool c = r.is_const();
  return step_loop(r, std::move(x), r.s, true, [&](int, double s0, double s1, const Tensor& x, const Denoised& dn) {
    if (s1 == 0.0) return dn.denoised;
    const double as = s0 * std::exp(half_log_snr(s0, c)), at = s1 * std::exp(half_log_snr(s1, c));
    Ancestral a = ancestral_step(s0 / as, s1 / at, eta);
    const double down = at * a.down;
    // alpha_t * D + down * (x - alpha_s * D_u) / s0
    return r.lin_noised({{at, dn.denoised}, {down / s0, x}, {-down * as / s0, dn.uncond}},
                        eta > 0.0 && s_noise > 0.0, s0, s1, at * s_noise * a.up);
  });
}
Tensor sample_euler_cfg_pp(Run& r, Tensor x) { return euler_ancestral_cfg_pp(r, std::move(x), 0.0, 0.0); }
Tensor sample_euler_ancestral_cfg_pp(Run& r, Tensor x) {
  return euler_ancestral_cfg_pp(r, std::move(x), r.eta(1.0), r.opt.s_noise);
}

Tensor sample_dpmpp_2s_ancestral_cfg_pp(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  return step_loop(r, std::move(x), r.s, true, [&](int, double s0, double s1, const Tensor& x, const Denoised& dn) {
    const Tensor& D = dn.denoised;
    const Ancestral a = ancestral_step(s0, s1, eta);
    Tensor xd;
    if (a.down == 0.0) {  // D + (x - D_u)/s0 * down
      xd = r.lin({{a.down / s0, x}, {1.0, D}, {-a.down / s0, dn.uncond}});
    } else {
      const double t = -std::log(s0), tn = -std::log(a.down), h = tn - t, s = t + 0.5 * h;
      const double q = std::exp(-s) / std::exp(-t);
      Tensor x2 = r.lin({{q, x}, {q - std::expm1(-h * 0.5), D}, {-q, dn.uncond}});
      // ComfyUI's post-CFG hook has replaced the stored uncond with the second call's by now.
      Denoised dn2 = r.denoise(x2, std::exp(-s), true);
      const double qn = std::exp(-tn) / std::exp(-t);
      xd = r.lin({{qn, x}, {qn, D}, {-qn, dn2.uncond}, {-std::expm1(-h), dn2.denoised}});
    }
    return add_ancestral_noise(r, xd, s0, s1, a.up, s_noise);
  });
}

Tensor sample_dpmpp_2m_cfg_pp(Run& r, Tensor x) {
  Tensor old_u;
  return step_loop(r, std::move(x), r.s, true, [&](int i, double s0, double s1, const Tensor& x, const Denoised& dn) {
    Tensor next = dn.denoised;  // s1 = 0: exp(-h) = 0
    if (s1 != 0.0) {
      const double t = -std::log(s0), tn = -std::log(s1), h = tn - t, e = std::exp(-h);
      // D - e*D_u [- expm1(-h)/(2r) * (D - old_u)] + e*x
      std::vector<Tm> terms{{e, x}, {1.0, dn.denoised}, {-e, dn.uncond}};
      if (old_u.defined())
        add_difference(terms, 1, -std::expm1(-h) / (2.0 * ((t + std::log(r.s[i - 1])) / h)), old_u);
      next = r.lin(terms);
    }
    old_u = dn.uncond;
    return next;
  });
}

}  // namespace

std::vector<SamplerEntry> cfgpp_family() {
  return {{1, "euler_cfg_pp", sample_euler_cfg_pp, kUncond},
          {3, "euler_ancestral_cfg_pp", sample_euler_ancestral_cfg_pp, kUncond | kNoise},
          {14, "dpmpp_2s_ancestral_cfg_pp", sample_dpmpp_2s_ancestral_cfg_pp, kUncond | kNoise},
          {18, "dpmpp_2m_cfg_pp", sample_dpmpp_2m_cfg_pp, kUncond}};
}

}  // namespace vkf::sampling::detail
