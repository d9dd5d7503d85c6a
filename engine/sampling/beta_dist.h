#pragma once
// Beta distribution helpers for the "beta" scheduler (ComfyUI calls scipy.stats.beta.ppf).
// Double precision; the scheduler only needs rint(ppf * 999), so ~1e-14 relative is plenty.

namespace vkf::sampling {

// Regularized incomplete beta I_x(a, b), a, b > 0, x in [0, 1] (continued fraction, Lentz).
double incomplete_beta_reg(double a, double b, double x);
// Inverse of I_x(a, b) in x (the beta distribution's quantile function, scipy.stats.beta.ppf).
// p outside [0, 1] or NaN -> NaN, like scipy.
double beta_ppf(double p, double a, double b);

}  // namespace vkf::sampling
