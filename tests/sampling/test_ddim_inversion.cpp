// DDIM inversion: x0 -> x_T with the eta=0 update run backwards, then regenerated with the forward
// sampler over the same sigmas. Checked with the goldens' analytic denoiser (Gaussian data, exact D), for
// which the probability-flow ODE is smooth: the round trip must converge as the step count grows.
#include <catch2/catch.hpp>

#include "engine/sampling/analytic_denoiser.h"
#include "engine/sampling/ddim_inversion.h"
#include "engine/sampling/schedulers.h"
#include "engine/sampling/torch_rng.h"
#include "engine/ops/latent_interpolate.h"
#include "tests/support/gpu.h"

using namespace vkf;

namespace {
float round_trip_error(int steps) {
  auto& ctx = test::gpu();
  const Shape shape{1, 4, 8, 12};
  auto mu_h = sampling::torch_randn(7, shape);
  auto z = sampling::torch_randn(8, shape);
  std::vector<float> x0_h(mu_h.size());
  for (size_t i = 0; i < x0_h.size(); ++i) x0_h[i] = mu_h[i] + 0.5f * z[i];  // a sample of N(mu, 0.5^2)
  Tensor mu = from_host(ctx, shape, mu_h), x0 = from_host(ctx, shape, x0_h);
  sampling::AnalyticDenoiser den(mu, mu, 0.5, false);
  auto ms = sampling::ModelSampling::discrete();
  auto sigmas = sampling::calculate_sigmas(ms, "karras", steps);
  vk::Recorder rec(ctx);
  sampling::SamplerEnv env{rec, ms, den.fn(), nullptr, {}, nullptr};
  Tensor xt = sampling::ddim_invert(env, x0, sigmas);
  Tensor back = sampling::run_sampler("euler", env, xt, sigmas);
  rec.submit();
  return test::max_abs_diff(to_host(ctx, back), x0_h);
}
}  // namespace

TEST_CASE("DDIM inversion round trip converges with the step count", "[sampling][ddim_inversion]") {
  float e10 = round_trip_error(10), e50 = round_trip_error(50), e200 = round_trip_error(200);
  WARN("DDIM inversion reconstruction max|x0' - x0|: 10 steps " << e10 << ", 50 steps " << e50 << ", 200 steps " << e200);
  CHECK(e50 < e10);
  CHECK(e200 < e50);
  CHECK(e200 < 0.05f);  // data std 0.5: a 10% of one std round-trip error at most
}

TEST_CASE("LatentInterpolate matches its CPU reference and the endpoints", "[ops][latent_interpolate]") {
  auto& ctx = test::gpu();
  const Shape shape{2, 4, 5, 7};
  auto a = test::random_floats(size_t(shape_numel(shape)), 11), b = test::random_floats(size_t(shape_numel(shape)), 12);
  Tensor ta = from_host(ctx, shape, a), tb = from_host(ctx, shape, b);
  for (float r : {0.0f, 0.3f, 1.0f}) {
    vk::Recorder rec(ctx);
    Tensor o = ops::latent_interpolate(rec, ta, tb, r);
    rec.submit();
    auto got = to_host(ctx, o);
    CHECK(test::max_abs_diff(got, ops::latent_interpolate_ref(a, b, 2, 4, 35, r)) <= 1e-5f);
    if (r == 1.0f) CHECK(test::max_abs_diff(got, a) <= 1e-5f);  // ratio 1 returns samples1
    if (r == 0.0f) CHECK(test::max_abs_diff(got, b) <= 1e-5f);
  }
}
