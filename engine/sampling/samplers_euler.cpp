// Karras-ODE samplers in sigma: euler (= ComfyUI's ddim), euler_ancestral, heun, heunpp2, dpm_2,
// dpm_2_ancestral, lms (ComfyUI k_diffusion/sampling.py; s_churn = 0 as KSampler always uses).
// d = (x - D)/sigma is folded into the coefficients: x + d*dt = (1 + dt/s)*x - (dt/s)*D.
#include <array>
#include <deque>

#include "engine/sampling/sampler_impl.h"

namespace vkf::sampling::detail {
namespace {

// x + (x - D)/s * dt
Tensor euler_to(Run& r, const Tensor& x, const Tensor& D, double s, double dt) {
  return r.lin({{1.0 + dt / s, x}, {-dt / s, D}});
}

Tensor sample_euler(Run& r, Tensor x) {
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    return euler_to(r, x, D, s0, s1 - s0);
  });
}

Tensor sample_euler_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) -> Tensor {
    if (r.is_const()) {  // sample_euler_ancestral_RF
      if (s1 == 0.0) return D;
      return rf_ancestral_update(r, x, D, s0, s1, rf_step(s0, s1, eta), eta, s_noise);
    }
    const Ancestral a = ancestral_step(s0, s1, eta);
    if (a.down == 0.0) return D;
    const double dt = a.down - s0;
    return r.lin_noised({{1.0 + dt / s0, x}, {-dt / s0, D}}, true, s0, s1, s_noise * a.up);
  });
}

Tensor sample_heun(Run& r, Tensor x) {
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    const double dt = s1 - s0;
    if (s1 == 0.0) return euler_to(r, x, D, s0, dt);
    Tensor x2 = euler_to(r, x, D, s0, dt);
    Tensor D2 = r.denoise(x2, s1).denoised;
    // x + ((x-D)/s0 + (x2-D2)/s1)/2 * dt
    return r.lin({{1.0 + dt / (2 * s0), x}, {-dt / (2 * s0), D}, {dt / (2 * s1), x2}, {-dt / (2 * s1), D2}});
  });
}

Tensor sample_heunpp2(Run& r, Tensor x) {
  const double s_end = r.s.back();
  return step_loop(r, std::move(x), [&](int i, double s0, double s1, const Tensor& x, const Tensor& D) {
    const double dt = s1 - s0;
    if (s1 == s_end) return euler_to(r, x, D, s0, dt);
    Tensor d = r.to_d(x, D, s0);
    Tensor x2 = r.lin({{1.0, x}, {dt, d}});
    Tensor d2 = r.to_d(x2, r.denoise(x2, s1).denoised, s1);
    if (r.s[i + 2] == s_end) {  // Heun with weights s1/(2 s_first)
      const double w2 = s1 / (2 * r.s[0]), w1 = 1.0 - w2;
      return r.lin({{1.0, x}, {w1 * dt, d}, {w2 * dt, d2}});
    }
    // Heun++: a third evaluation at s_{i+2}
    const double s2 = r.s[i + 2];
    Tensor x3 = r.lin({{1.0, x2}, {s2 - s1, d2}});
    Tensor d3 = r.to_d(x3, r.denoise(x3, s2).denoised, s2);
    const double w = 3 * r.s[0], w2 = s1 / w, w3 = s2 / w, w1 = 1.0 - w2 - w3;
    return r.lin({{1.0, x}, {w1 * dt, d}, {w2 * dt, d2}, {w3 * dt, d3}});
  });
}

// DPM-Solver-2 from s0 towards `to` through the log-midpoint.
Tensor dpm2_to(Run& r, const Tensor& x, const Tensor& D, double s0, double to) {
  const double s_mid = std::exp(torch_lerp(std::log(s0), std::log(to), 0.5));
  Tensor x2 = euler_to(r, x, D, s0, s_mid - s0);
  Tensor D2 = r.denoise(x2, s_mid).denoised;
  const double dt = to - s0;
  // x + (x2 - D2)/s_mid * dt
  return r.lin({{1.0, x}, {dt / s_mid, x2}, {-dt / s_mid, D2}});
}

Tensor sample_dpm_2(Run& r, Tensor x) {
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    return s1 == 0.0 ? euler_to(r, x, D, s0, s1 - s0) : dpm2_to(r, x, D, s0, s1);
  });
}

Tensor sample_dpm_2_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  return step_loop(r, std::move(x), [&](int, double s0, double s1, const Tensor& x, const Tensor& D) {
    // Both variants take a DPM-2 step to sigma_down, then renoise: the RF one (whenever sigma_down != 0)
    // after rescaling by the alpha ratio, the Karras one with s_noise * up.
    double down = 0.0, scale = 1.0, up = 0.0;
    if (r.is_const()) {  // sample_dpm_2_ancestral_RF
      const RfStep st = rf_step(s0, s1, eta);
      down = st.down;
      scale = st.a_ratio;
      up = st.renoise;
    } else {
      const Ancestral a = ancestral_step(s0, s1, eta);
      down = a.down;
      up = a.up;
    }
    if (down == 0.0) return euler_to(r, x, D, s0, down - s0);
    Tensor xd = dpm2_to(r, x, D, s0, down);
    return r.lin_noised({{scale, xd}}, true, s0, s1, s_noise * up);
  });
}

// Integral over [t[i], t[i+1]] of the Lagrange basis polynomial j through t[i], t[i-1], ..., t[i-order+1]
// (ComfyUI integrates it with scipy quad; the integrand is a polynomial of degree <= 3, which 4-point
// Gauss-Legendre integrates exactly).
double lms_coeff(int order, const std::vector<double>& t, int i, int j) {
  auto fn = [&](double tau) {
    double prod = 1.0;
    for (int k = 0; k < order; ++k)
      if (k != j) prod *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    return prod;
  };
  static const std::array<double, 4> xg = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
                                           0.8611363115940526};
  static const std::array<double, 4> wg = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
                                           0.3478548451374538};
  const double a = t[i], b = t[i + 1], half = 0.5 * (b - a), mid = 0.5 * (a + b);
  double sum = 0.0;
  for (int k = 0; k < 4; ++k) sum += wg[k] * fn(mid + half * xg[k]);
  return sum * half;
}

Tensor sample_lms(Run& r, Tensor x) {
  constexpr int kOrder = 4;
  std::deque<Tensor> ds;  // newest last
  return step_loop(r, std::move(x), [&](int i, double s0, double s1, const Tensor& x, const Tensor& D) {
    ds.push_back(r.to_d(x, D, s0));
    if (int(ds.size()) > kOrder) ds.pop_front();
    if (s1 == 0.0) return D;
    const int order = std::min(i + 1, kOrder);
    std::vector<Tm> terms{{1.0, x}};
    for (int j = 0; j < order; ++j) terms.push_back({lms_coeff(order, r.s, i, j), ds[ds.size() - 1 - j]});
    return r.lin(terms);
  });
}

}  // namespace

std::vector<SamplerEntry> euler_family() {
  return {{0, "euler", sample_euler, kOde},
          {2, "euler_ancestral", sample_euler_ancestral, kNoise},
          {4, "heun", sample_heun, kOde},
          {5, "heunpp2", sample_heunpp2, kOde},
          {8, "dpm_2", sample_dpm_2, kDiscardPenultimate},
          {9, "dpm_2_ancestral", sample_dpm_2_ancestral, kDiscardPenultimate | kNoise},
          {10, "lms", sample_lms, kOde},
          {41, "ddim", sample_euler, kOde}};  // ComfyUI's ddim is euler
}

}  // namespace vkf::sampling::detail
