#include "engine/sampling/beta_dist.h"

#include <cmath>
#include <limits>

namespace vkf::sampling {

namespace {

// Continued fraction of I_x(a, b) (Numerical Recipes betacf, modified Lentz), valid and fast for
// x < (a + 1) / (a + b + 2); the other side uses the symmetry I_x(a, b) = 1 - I_{1-x}(b, a).
double beta_cf(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-16;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEps) break;
  }
  return h;
}

}  // namespace

double incomplete_beta_reg(double a, double b, double x) {
  if (std::isnan(x) || !(a > 0.0) || !(b > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_cf(a, b, x) / a;
  return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double beta_ppf(double p, double a, double b) {
  if (std::isnan(p) || p < 0.0 || p > 1.0 || !(a > 0.0) || !(b > 0.0))
    return std::numeric_limits<double>::quiet_NaN();
  if (p == 0.0) return 0.0;
  if (p == 1.0) return 1.0;
  if (a == b) {
    // Symmetric distribution: the median is exactly 0.5 (scipy returns 0.5, and the beta scheduler's
    // rint(0.5 * 999) = 500 depends on it), and the quantiles mirror around it.
    if (p == 0.5) return 0.5;
    if (p > 0.5) return 1.0 - beta_ppf(1.0 - p, a, b);
  }
  // I_x is monotone in x: bisection until the bracket cannot shrink any more (~60 halvings).
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (incomplete_beta_reg(a, b, mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace vkf::sampling
