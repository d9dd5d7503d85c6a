// Multistep and step-function samplers: ipndm, ipndm_v, deis, res_multistep(_ancestral)(_cfg_pp),
// gradient_estimation(_cfg_pp), er_sde, lcm, ddpm (ComfyUI k_diffusion/sampling.py, k_diffusion/deis.py).
#include <deque>

#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

// Shared driver of ipndm / ipndm_v / deis: x_next = x + sum_k c_k * d_k over d_cur and up to max_order-1
// previous derivatives (newest first); `coeffs(i, order)` gives c (already including the step size).
template <class Coeffs>
Tensor adams_d(Run& r, Tensor x, int max_order, bool final_denoised, Coeffs coeffs) {
  std::deque<Tensor> buf;  // previous d, newest last
  return step_loop(r, std::move(x), [&](int i, double t_cur, double t_next, const Tensor& x, const Tensor& D) {
    Tensor d = r.to_d(x, D, t_cur);
    int order = std::min(max_order, i + 1);
    Tensor next = D;
    if (!(final_denoised && t_next == 0.0)) {
      if (t_next <= 0.0) order = 1;  // deis: Euler on the last step
      const std::vector<double> c = coeffs(i, order);
      std::vector<Tm> terms{{1.0, x}, {c[0], d}};
      for (int k = 1; k < order; ++k) terms.push_back({c[size_t(k)], buf[buf.size() - size_t(k)]});
      next = r.lin(terms);
    }
    buf.push_back(d);
    if (int(buf.size()) > max_order - 1) buf.pop_front();
    return next;
  });
}

Tensor sample_ipndm(Run& r, Tensor x) {
  return adams_d(r, std::move(x), 4, true, [&](int i, int order) -> std::vector<double> {
    const double dt = r.s[i + 1] - r.s[i];
    switch (order) {
      case 1: return {dt};
      case 2: return {dt * 3 / 2, -dt / 2};
      case 3: return {dt * 23 / 12, -dt * 16 / 12, dt * 5 / 12};
      default: return {dt * 55 / 24, -dt * 59 / 24, dt * 37 / 24, -dt * 9 / 24};
    }
  });
}

Tensor sample_ipndm_v(Run& r, Tensor x) {
  const auto& t = r.s;
  return adams_d(r, std::move(x), 4, true, [&](int i, int order) -> std::vector<double> {
    const double hn = t[i + 1] - t[i];
    if (order == 1) return {hn};
    const double hn1 = t[i] - t[i - 1];
    if (order == 2) return {hn * (2 + hn / hn1) / 2, hn * (-(hn / hn1) / 2)};
    const double hn2 = t[i - 1] - t[i - 2];
    const double temp1 = (1 - hn / (3 * (hn + hn1)) * (hn * (hn + hn1)) / (hn1 * (hn1 + hn2))) / 2;
    if (order == 3) {
      const double c1 = (2 + hn / hn1) / 2 + temp1, c2 = -(hn / hn1) / 2 - (1 + hn1 / hn2) * temp1;
      return {hn * c1, hn * c2, hn * temp1 * hn1 / hn2};
    }
    const double hn3 = t[i - 2] - t[i - 3];
    const double temp2 = ((1 - hn / (3 * (hn + hn1))) / 2 + (1 - hn / (2 * (hn + hn1))) * hn / (6 * (hn + hn1 + hn2))) *
                         (hn * (hn + hn1) * (hn + hn1 + hn2)) / (hn1 * (hn1 + hn2) * (hn1 + hn2 + hn3));
    const double q = hn1 * (hn1 + hn2) / (hn2 * (hn2 + hn3));
    const double c1 = (2 + hn / hn1) / 2 + temp1 + temp2;
    const double c2 = -(hn / hn1) / 2 - (1 + hn1 / hn2) * temp1 - (1 + hn1 / hn2 + q) * temp2;
    const double c3 = temp1 * hn1 / hn2 + (hn1 / hn2 + q * (1 + hn2 / hn3)) * temp2;
    const double c4 = -temp2 * q * hn1 / hn2;
    return {hn * c1, hn * c2, hn * c3, hn * c4};
  });
}

// deis.get_deis_coeff_list(sigmas, max_order, N=10000, 'tab'): EDM sigma -> VP time (edm2t with
// sigma_min 0.002, sigma_max 80, epsilon_s 1e-3), then Riemann sums of integrand * Lagrange basis over
// torch.linspace(t_cur, t_next, N) times (t_next - t_cur)/N, exactly as the reference does.
std::vector<std::vector<double>> deis_coeffs(const std::vector<double>& sig, int max_order) {
  const double eps_s = 1e-3, smin = 0.002, smax = 80.0;
  const double bd = 2 * (std::log(smin * smin + 1) / eps_s - std::log(smax * smax + 1)) / (eps_s - 1);
  const double bmin = std::log(smax * smax + 1) - 0.5 * bd;
  std::vector<double> ts;
  for (double s : sig) ts.push_back((std::sqrt(bmin * bmin + 2 * bd * std::log(s * s + 1)) - bmin) / bd);
  const double b0 = bmin, b1 = bd + bmin;
  constexpr int N = 10000;
  std::vector<std::vector<double>> C(sig.size() - 1);
  for (size_t i = 0; i + 1 < ts.size(); ++i) {
    const int order = std::min(int(i) + 1, max_order);
    if (order == 1 || sig[i + 1] <= 0.0) continue;  // unused (first step / final Euler step)
    const double tc = ts[i], tn = ts[i + 1], dtau = (tn - tc) / N;
    const std::vector<double> taus = torch_linspace_f64(tc, tn, N);
    std::vector<double> prev(static_cast<size_t>(order));
    for (int k = 0; k < order; ++k) prev[size_t(k)] = ts[i - size_t(k)];
    for (int j = 0; j < order; ++j) {
      double sum = 0.0;
      for (double tau : taus) {
        const double alpha = std::exp(-0.5 * tau * tau * (b1 - b0) - tau * b0);
        const double integrand = 0.5 * (tau * (b1 - b0) + b0) / std::sqrt(alpha * (1 - alpha));
        double poly = 1.0;
        for (int k = 0; k < order; ++k)
          if (k != j) poly *= (tau - prev[size_t(k)]) / (prev[size_t(j)] - prev[size_t(k)]);
        sum += integrand * poly;
      }
      C[i].push_back(sum * dtau);
    }
  }
  return C;
}

Tensor sample_deis(Run& r, Tensor x) {
  constexpr int kMaxOrder = 3;
  const auto C = deis_coeffs(r.s, kMaxOrder);
  return adams_d(r, std::move(x), kMaxOrder, false, [&](int i, int order) -> std::vector<double> {
    if (order == 1) return {r.s[i + 1] - r.s[i]};
    return C[size_t(i)];
  });
}

// res_multistep: second-order multistep exponential integrator (arXiv 2308.02157); ancestral with eta > 0;
// CFG++ uses the unconditional prediction in the update and history.
Tensor res_multistep(Run& r, Tensor x, double eta, bool cfg_pp) {
  const double s_noise = r.opt.s_noise;
  Tensor old;  // old_denoised (uncond for CFG++)
  double old_down = 0.0;
  auto phi1 = [](double t) { return std::expm1(t) / t; };
  auto phi2 = [&](double t) { return (phi1(t) - 1.0) / t; };
  auto nan0 = [](double v) { return std::isnan(v) ? 0.0 : v; };
  return step_loop(r, std::move(x), r.s, cfg_pp, [&](int i, double s0, double s1, const Tensor& x, const Denoised& dn) {
    const Tensor& D = dn.denoised;
    const Tensor& Du = cfg_pp ? dn.uncond : dn.denoised;
    const Ancestral a = ancestral_step(s0, s1, eta);
    std::vector<Tm> terms;
    if (a.down == 0.0 || !old.defined()) {
      if (cfg_pp)  // D + (x - Du)/s0 * down
        terms = {{a.down / s0, x}, {1.0, D}, {-a.down / s0, Du}};
      else
        terms = {{1.0 + (a.down - s0) / s0, x}, {-(a.down - s0) / s0, D}};
    } else {
      const double t = -std::log(s0), t_old = -std::log(old_down), t_next = -std::log(a.down);
      const double t_prev = -std::log(r.s[i - 1]), h = t_next - t, c2 = (t_prev - t_old) / h;
      const double b1 = nan0(phi1(-h) - phi2(-h) / c2), b2 = nan0(phi2(-h) / c2), e = std::exp(-h);
      if (cfg_pp)  // e^-h * (x + D - Du) + h*(b1*Du + b2*old)
        terms = {{e, x}, {e, D}, {h * b1 - e, Du}, {h * b2, old}};
      else
        terms = {{e, x}, {h * b1, D}, {h * b2, old}};
    }
    // ComfyUI calls the noise sampler with eta = 0 too (times 0): skipped
    Tensor next = r.lin_noised(std::move(terms), s1 > 0.0 && a.up != 0.0, s0, s1, s_noise * a.up);
    old = Du;
    old_down = a.down;
    return next;
  });
}
Tensor sample_res_multistep(Run& r, Tensor x) { return res_multistep(r, std::move(x), 0.0, false); }
Tensor sample_res_multistep_cfg_pp(Run& r, Tensor x) { return res_multistep(r, std::move(x), 0.0, true); }
Tensor sample_res_multistep_ancestral(Run& r, Tensor x) { return res_multistep(r, std::move(x), r.eta(1.0), false); }
Tensor sample_res_multistep_ancestral_cfg_pp(Run& r, Tensor x) {
  return res_multistep(r, std::move(x), r.eta(1.0), true);
}

Tensor gradient_estimation(Run& r, Tensor x, bool cfg_pp) {
  const double gamma = r.opt.ge_gamma;
  Tensor old_d;
  return step_loop(r, std::move(x), r.s, cfg_pp, [&](int i, double s0, double s1, const Tensor& x, const Denoised& dn) {
    const double dt = s1 - s0;
    const Tensor& D = dn.denoised;
    Tensor d = r.to_d(x, cfg_pp ? dn.uncond : D, s0);
    Tensor next = D;
    if (s1 != 0.0) {
      std::vector<Tm> terms;
      if (cfg_pp)
        terms = {{1.0, D}, {s1, d}};
      else
        terms = {{1.0, x}, {dt, d}};
      if (i >= 1) {  // + (gamma - 1) * (d - old_d) * dt
        terms.push_back({(gamma - 1.0) * dt, d});
        terms.push_back({-(gamma - 1.0) * dt, old_d});
      }
      next = r.lin(terms);
    }
    old_d = d;
    return next;
  });
}
Tensor sample_gradient_estimation(Run& r, Tensor x) { return gradient_estimation(r, std::move(x), false); }
Tensor sample_gradient_estimation_cfg_pp(Run& r, Tensor x) { return gradient_estimation(r, std::move(x), true); }

// ER-SDE-Solver-3 (arXiv 2309.06169). Like ComfyUI, the stage-2/3 integrals run on a float32 grid.
Tensor sample_er_sde(Run& r, Tensor x) {
  const double s_noise = r.opt.s_noise;
  constexpr int kMaxStage = 3, kPoints = 200;
  auto scaler = [](double l) { return l * (std::exp(std::pow(l, 0.3)) + 10.0); };
  auto scaler_f = [](float l) { return l * (std::exp(std::pow(l, 0.3f)) + 10.0f); };
  const std::vector<double> sg = offset_first_sigma(r);
  std::vector<double> er(sg.size());
  for (size_t k = 0; k < sg.size(); ++k) er[k] = std::exp(-half_log_snr(sg[k], r.is_const()));
  Tensor old, old_dd;
  return step_loop(r, std::move(x), sg, false, [&](int i, double s0, double s1, const Tensor& x, const Tensor& D) {
    const int stage = std::min(kMaxStage, i + 1);
    Tensor next = D;
    if (s1 != 0.0) {
      const double ls = er[i], lt = er[i + 1], as = s0 / ls, at = s1 / lt;
      const double ra = at / as, rr = scaler(lt) / scaler(ls);
      std::vector<Tm> terms{{ra * rr, x}, {at * (1.0 - rr), D}};
      Tensor dd, du;
      if (stage >= 2) {
        const double dt = lt - ls, step = -dt / kPoints;
        float s = 0.0f, s_u = 0.0f;  // float32 sums as in ComfyUI (float32 point grid)
        for (int k = 0; k < kPoints; ++k) {
          const float pos = float(lt) + float(k) * float(step);
          const float sc = scaler_f(pos);
          s += 1.0f / sc;
          s_u += (pos - float(ls)) / sc;
        }
        const double S = double(s) * step, S_u = double(s_u) * step;
        const double den1 = ls - er[i - 1];
        dd = r.lin({{1.0 / den1, D}, {-1.0 / den1, old}});
        terms.push_back({at * (dt + S * scaler(lt)), dd});
        if (stage >= 3) {
          const double den2 = (ls - er[i - 2]) / 2.0;
          du = r.lin({{1.0 / den2, dd}, {-1.0 / den2, old_dd}});
          terms.push_back({at * (dt * dt / 2.0 + S_u * scaler(lt)), du});
        }
        old_dd = dd;
      }
      double c = std::sqrt(lt * lt - ls * ls * rr * rr);
      if (std::isnan(c)) c = 0.0;
      next = r.lin_noised(std::move(terms), s_noise > 0.0, s0, s1, at * s_noise * c);
    }
    old = D;
    return next;
  });
}

Tensor sample_lcm(Run& r, Tensor x) {
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor&, const Tensor& D) {
    if (!(s1 > 0.0)) return D;
    // model_sampling.noise_scaling(s1, noise, D) with max_denoise = False
    const Lin2 ns = r.ms().noise_scaling(s1, false);
    Tensor n = r.noise(s0, s1);
    return r.lin({{ns.a, n}, {ns.b, D}});
  });
}

// generic_step_sampler + DDPMSampler_step, in the VP scale x/sqrt(1+s^2).
Tensor sample_ddpm(Run& r, Tensor x) {
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    const double ac = 1.0 / (s0 * s0 + 1.0), acp = 1.0 / (s1 * s1 + 1.0), a = ac / acp;
    const double k = std::sqrt(1.0 / a), ke = k * (1.0 - a) / std::sqrt(1.0 - ac) / s0;  // eps = (x - D)/s0
    const double out = s1 != 0.0 ? std::sqrt(1.0 + s1 * s1) : 1.0;
    return r.lin_noised({{out * (k / std::sqrt(1.0 + s0 * s0) - ke), x}, {out * ke, D}}, s1 > 0.0, s0, s1,
                        out * std::sqrt((1.0 - a) * (1.0 - acp) / (1.0 - ac)));
  });
}

}  // namespace

std::vector<SamplerEntry> multistep_family() {
  return {{27, "ipndm", sample_ipndm, kOde},
          {28, "ipndm_v", sample_ipndm_v, kOde},
          {29, "deis", sample_deis, kOde},
          {30, "res_multistep", sample_res_multistep, kOde},
          {31, "res_multistep_cfg_pp", sample_res_multistep_cfg_pp, kUncond},
          {32, "res_multistep_ancestral", sample_res_multistep_ancestral, kNoise},
          {33, "res_multistep_ancestral_cfg_pp", sample_res_multistep_ancestral_cfg_pp, kUncond | kNoise},
          {34, "gradient_estimation", sample_gradient_estimation, kOde},
          {35, "gradient_estimation_cfg_pp", sample_gradient_estimation_cfg_pp, kUncond},
          {36, "er_sde", sample_er_sde, kNoise},
          {26, "lcm", sample_lcm, kNoise},
          {25, "ddpm", sample_ddpm, kNoise}};
}

}  // namespace vkf::sampling::detail
