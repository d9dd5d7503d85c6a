#include "engine/sampling/ddim_inversion.h"

#include <algorithm>

#include "engine/ops/lincomb.h"

namespace vkf::sampling {

Tensor ddim_invert(SamplerEnv& env, const Tensor& x0, const std::vector<float>& sigmas) {
  std::vector<double> up;
  for (auto it = sigmas.rbegin(); it != sigmas.rend(); ++it)
    if (*it > 0) up.push_back(*it);
  if (up.size() < 1) throw SamplingError("DDIM inversion needs at least one positive sigma");
  auto& rec = env.rec;
  // first step from sigma 0: the noise prediction at the smallest sigma, evaluated at the clean latent
  Denoised d = env.denoise(rec, x0, up[0]);
  // x = x0 + s0 * (x0 - D)/s0 = 2*x0 - D ... written as x0 + (x0 - D): eps*s0 with eps = (x0 - D)/s0
  Tensor x = ops::lincomb(rec, {{2.0f, &x0}, {-1.0f, &d.denoised}});
  rec.submit();
  const int total = int(up.size());
  if (env.callback) env.callback(0, total, x, d.denoised);
  for (size_t i = 0; i + 1 < up.size(); ++i) {
    if (env.cancel && env.cancel->load()) throw SamplingCancelled("sampling cancelled");
    const double sa = up[i], sb = up[i + 1];
    d = env.denoise(rec, x, sa);
    const double k = (sb - sa) / sa;  // x += k * (x - D)
    ops::lincomb(rec, x, {{float(1.0 + k), &x}, {float(-k), &d.denoised}});
    rec.submit();
    if (env.callback) env.callback(int(i + 1), total, x, d.denoised);
  }
  return x;
}

}  // namespace vkf::sampling
