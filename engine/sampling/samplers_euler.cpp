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
  for (int i = 0; i < r.steps(); ++i) {
    Tensor D = r.denoise(x, r.s[i]).denoised;
    x = euler_to(r, x, D, r.s[i], r.s[i + 1] - r.s[i]);
    r.end_step(i, x, D);
  }
  return x;
}

// Flow (CONST) models: ComfyUI dispatches to the *_RF variants, which step to sigma_down and rescale.
struct RfStep {
  double down, a_ratio, renoise;  // sigma_down, alpha_{i+1}/alpha_down, renoise coefficient
};
RfStep rf_step(double s0, double s1, double eta) {
  const double down = s1 * (1.0 + (s1 / s0 - 1.0) * eta);
  const double a1 = 1.0 - s1, ad = 1.0 - down;
  return {down, a1 / ad, std::sqrt(s1 * s1 - down * down * a1 * a1 / (ad * ad))};
}

Tensor sample_euler_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (r.is_const()) {  // sample_euler_ancestral_RF
      if (s1 == 0.0) {
        x = D;
      } else {
        const RfStep st = rf_step(s0, s1, eta);
        const double q = st.down / s0;
        if (eta > 0.0) {
          Tensor n = r.noise(s0, s1);
          x = r.lin({{st.a_ratio * q, x}, {st.a_ratio * (1.0 - q), D}, {s_noise * st.renoise, n}});
        } else {
          x = r.lin({{q, x}, {1.0 - q, D}});
        }
      }
    } else {
      const Ancestral a = ancestral_step(s0, s1, eta);
      if (a.down == 0.0) {
        x = D;
      } else {
        const double dt = a.down - s0;
        Tensor n = r.noise(s0, s1);
        x = r.lin({{1.0 + dt / s0, x}, {-dt / s0, D}, {s_noise * a.up, n}});
      }
    }
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_heun(Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1], dt = s1 - s0;
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == 0.0) {
      x = euler_to(r, x, D, s0, dt);
    } else {
      Tensor x2 = euler_to(r, x, D, s0, dt);
      Tensor D2 = r.denoise(x2, s1).denoised;
      // x + ((x-D)/s0 + (x2-D2)/s1)/2 * dt
      x = r.lin({{1.0 + dt / (2 * s0), x}, {-dt / (2 * s0), D}, {dt / (2 * s1), x2}, {-dt / (2 * s1), D2}});
    }
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_heunpp2(Run& r, Tensor x) {
  const double s_end = r.s.back();
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1], dt = s1 - s0;
    Tensor D = r.denoise(x, s0).denoised;
    if (s1 == s_end) {
      x = euler_to(r, x, D, s0, dt);
    } else if (r.s[i + 2] == s_end) {  // Heun with weights s1/(2 s_first)
      Tensor d = r.to_d(x, D, s0);
      Tensor x2 = r.lin({{1.0, x}, {dt, d}});
      Tensor d2 = r.to_d(x2, r.denoise(x2, s1).denoised, s1);
      const double w2 = s1 / (2 * r.s[0]), w1 = 1.0 - w2;
      x = r.lin({{1.0, x}, {w1 * dt, d}, {w2 * dt, d2}});
    } else {  // Heun++: a third evaluation at s_{i+2}
      const double s2 = r.s[i + 2];
      Tensor d = r.to_d(x, D, s0);
      Tensor x2 = r.lin({{1.0, x}, {dt, d}});
      Tensor d2 = r.to_d(x2, r.denoise(x2, s1).denoised, s1);
      Tensor x3 = r.lin({{1.0, x2}, {s2 - s1, d2}});
      Tensor d3 = r.to_d(x3, r.denoise(x3, s2).denoised, s2);
      const double w = 3 * r.s[0], w2 = s1 / w, w3 = s2 / w, w1 = 1.0 - w2 - w3;
      x = r.lin({{1.0, x}, {w1 * dt, d}, {w2 * dt, d2}, {w3 * dt, d3}});
    }
    r.end_step(i, x, D);
  }
  return x;
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
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    x = s1 == 0.0 ? euler_to(r, x, D, s0, s1 - s0) : dpm2_to(r, x, D, s0, s1);
    r.end_step(i, x, D);
  }
  return x;
}

Tensor sample_dpm_2_ancestral(Run& r, Tensor x) {
  const double eta = r.eta(1.0), s_noise = r.opt.s_noise;
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    if (r.is_const()) {  // sample_dpm_2_ancestral_RF (noise whenever sigma_down != 0)
      const RfStep st = rf_step(s0, s1, eta);
      if (st.down == 0.0) {
        x = euler_to(r, x, D, s0, st.down - s0);
      } else {
        Tensor xd = dpm2_to(r, x, D, s0, st.down);
        Tensor n = r.noise(s0, s1);
        x = r.lin({{st.a_ratio, xd}, {s_noise * st.renoise, n}});
      }
    } else {
      const Ancestral a = ancestral_step(s0, s1, eta);
      if (a.down == 0.0) {
        x = euler_to(r, x, D, s0, a.down - s0);
      } else {
        Tensor xd = dpm2_to(r, x, D, s0, a.down);
        Tensor n = r.noise(s0, s1);
        x = r.lin({{1.0, xd}, {s_noise * a.up, n}});
      }
    }
    r.end_step(i, x, D);
  }
  return x;
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
  for (int i = 0; i < r.steps(); ++i) {
    const double s0 = r.s[i], s1 = r.s[i + 1];
    Tensor D = r.denoise(x, s0).denoised;
    ds.push_back(r.to_d(x, D, s0));
    if (int(ds.size()) > kOrder) ds.pop_front();
    if (s1 == 0.0) {
      x = D;
    } else {
      const int order = std::min(i + 1, kOrder);
      std::vector<Tm> terms{{1.0, x}};
      for (int j = 0; j < order; ++j) terms.push_back({lms_coeff(order, r.s, i, j), ds[ds.size() - 1 - j]});
      x = r.lin(terms);
    }
    r.end_step(i, x, D);
  }
  return x;
}

}  // namespace

std::vector<SamplerEntry> euler_family() {
  return {{"euler", sample_euler},   {"ddim", sample_euler},   {"euler_ancestral", sample_euler_ancestral},
          {"heun", sample_heun},     {"heunpp2", sample_heunpp2}, {"dpm_2", sample_dpm_2},
          {"dpm_2_ancestral", sample_dpm_2_ancestral}, {"lms", sample_lms}};
}

}  // namespace vkf::sampling::detail
