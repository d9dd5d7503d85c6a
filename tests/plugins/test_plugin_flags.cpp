// What a plugin's declared properties and kernels do on the GPU, through the ops probe (plugin_probe.h):
// a kernel shipped as SPIR-V runs like a GLSL one; NEEDS_UNCOND makes denoise return the unconditional
// prediction; DISCARDS_PENULTIMATE changes KSampler's sigmas as for dpm_2; a step's tensor ops, kernel
// dispatches and model call are recorded into one command buffer and submitted once, by step_done.
//
// Tolerances: the SPIR-V kernel o = alpha*a - b: 2 * FLT_EPSILON * (|alpha a| + |b|) (two roundings, maybe
// fused). The analytic denoiser's D (shared/golden/SAMPLERS.md), fp32 on the GPU against double on the
// CPU: 1e-5 absolute for values of magnitude <= 4 (a handful of fp32 operations, each <= 2^-24 relative).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>

#include "engine/sampling/sampler.h"
#include "engine/sampling/schedulers.h"
#include "tests/plugins/plugin_probe.h"
#include "tests/support/gpu.h"

using namespace vkf;
using vkf::test::Probe;
using vkf::test::ProbeRun;
using vkf::test::with_probe;

namespace {

size_t worst_over(const std::vector<float>& got, const std::vector<double>& ref, double tol, double* worst) {
  size_t bad = 0;
  *worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(double(got[i]) - ref[i]);
    *worst = std::max(*worst, std::isnan(e) ? INFINITY : e);
    bad += !(e <= tol);
  }
  return bad;
}

// The analytic EPS denoiser on the CPU: D(mu) = mu + s^2/(s^2 + sigma^2) * (x - mu), s = 0.5.
double analytic(double x, double mu, double sigma) { return mu + 0.25 / (0.25 + sigma * sigma) * (x - mu); }

}  // namespace

TEST_CASE("plugin kernel shipped as SPIR-V dispatches on odd sizes and matches the CPU", "[plugins][ops]") {
  uint32_t seed = 900;
  for (const Shape& shape : std::vector<Shape>{{1, 4, 7, 13}, {1, 1, 1, 1}, {2, 3, 17, 19}, {1, 4, 64, 65}}) {
    INFO("shape " << shape_str(shape));
    with_probe(shape, [&](Probe& p) {
      REQUIRE(p.spirv_kernel);
      const auto a = test::random_floats(p.n, ++seed), b = test::random_floats(p.n, ++seed);
      vkflow_tensor_t t[3] = {p.up(a), p.up(b), p.up(std::vector<float>(p.n, NAN))};
      struct {
        uint32_t n;
        float alpha;
      } push{uint32_t(p.n), 1.375f};
      CHECK(p.kt->dispatch(p.run, p.spirv_kernel, t, 3, 4u, &push, sizeof push, uint32_t((p.n + 31) / 32), 1, 1) ==
            VKFLOW_OK);
      const auto o = p.down(t[2]);
      size_t bad = 0;
      for (size_t i = 0; i < p.n; ++i) {
        const double ref = double(push.alpha) * a[i] - double(b[i]);
        bad += !(std::fabs(o[i] - ref) <= 2 * FLT_EPSILON * (std::fabs(push.alpha * a[i]) + std::fabs(b[i])));
      }
      CHECK(bad == 0);
      CHECK(p.down(t[1]) == b);
      for (auto x : t) p.ops->release(p.run, x);
    });
  }
}

TEST_CASE("a step's plugin ops, kernel dispatches and model call are submitted once, by step_done",
          "[plugins][ops]") {
  with_probe({2, 3, 17, 19}, [&](Probe& p) {
    REQUIRE(p.rec);
    const auto va = test::random_floats(p.n, 31, 0.1f, 1.0f), vb = test::random_floats(p.n, 32, 0.1f, 1.0f);
    vkflow_tensor_t a = p.up(va), b = p.up(vb), o = p.fresh(), d = nullptr;
    const uint32_t s0 = p.rec->submit_count();
    const double k[3] = {0.5, -0.25, 2.0};
    const vkflow_tensor_t terms[3] = {a, b, a};
    struct {
      uint32_t n;
      float alpha;
    } push{uint32_t(p.n), 0.5f};
    vkflow_tensor_t kt[3] = {a, b, o};
    CHECK(p.ops->copy(p.run, o, a) == VKFLOW_OK);
    CHECK(p.ops->scale(p.run, o, o, 3.0) == VKFLOW_OK);
    CHECK(p.ops->axpy(p.run, o, -1.0, b) == VKFLOW_OK);
    CHECK(p.ops->lincomb(p.run, o, 3, k, terms, 0.125) == VKFLOW_OK);
    CHECK(p.ops->mul(p.run, o, o, b) == VKFLOW_OK);
    CHECK(p.ops->div(p.run, o, o, a) == VKFLOW_OK);
    CHECK(p.ops->clamp(p.run, o, o, -1.0, 1.0) == VKFLOW_OK);
    CHECK(p.ops->fill(p.run, o, 0.25) == VKFLOW_OK);
    CHECK(p.ops->sqrt(p.run, o, a) == VKFLOW_OK);
    CHECK(p.kt->dispatch(p.run, p.kernel, kt, 3, 4u, &push, sizeof push, uint32_t((p.n + 63) / 64), 1, 1) == VKFLOW_OK);
    CHECK(p.kt->dispatch(p.run, p.spirv_kernel, kt, 3, 4u, &push, sizeof push, uint32_t((p.n + 31) / 32), 1, 1) == VKFLOW_OK);
    CHECK(p.call->api->denoise(p.run, p.x, 1.0, &d, nullptr) == VKFLOW_OK);
    CHECK(p.rec->submit_count() == s0);  // all of it recorded, nothing submitted yet
    CHECK(p.call->api->step_done(p.run, 0, 1, o, d) == VKFLOW_OK);
    CHECK(p.rec->submit_count() == s0 + 1);
    // the SPIR-V kernel ran last on o: alpha * a - b
    const auto got = p.down(o);
    CHECK(p.rec->submit_count() == s0 + 1);  // nothing was pending: the read-back needed no submit
    size_t bad = 0;
    for (size_t i = 0; i < p.n; ++i)
      bad += !(std::fabs(got[i] - (0.5 * va[i] - vb[i])) <= 2 * FLT_EPSILON * (0.5 * va[i] + vb[i]));
    CHECK(bad == 0);
    double dot = 0;
    CHECK(p.ops->dot(p.run, a, b, &dot) == VKFLOW_OK);
    CHECK(p.rec->submit_count() == s0 + 2);  // the reduction is recorded, then submitted once for its value
    for (auto t : {a, b, o, d}) p.ops->release(p.run, t);
  });
}

TEST_CASE("NEEDS_UNCOND: a plugin that declares it gets the unconditional prediction from denoise",
          "[plugins][sampling]") {
  const Shape shape{1, 4, 7, 13};
  const size_t n = size_t(shape_numel(shape));
  ProbeRun how;
  how.mu_c = test::random_floats(n, 5, -0.5f, 0.5f);
  how.mu_u = test::random_floats(n, 6, -0.5f, 0.5f);
  how.cfg = 3.0;
  const auto x = test::probe_latent(shape);
  const double sigma = 2.0;
  std::vector<double> ref_d(n), ref_u(n);
  for (size_t i = 0; i < n; ++i) {
    ref_u[i] = analytic(x[i], how.mu_u[i], sigma);
    ref_d[i] = ref_u[i] + (analytic(x[i], how.mu_c[i], sigma) - ref_u[i]) * how.cfg;
  }
  for (const char* sampler : {"tp_probe_uncond", "tp_ops_probe"}) {
    const bool declared = std::string(sampler) == "tp_probe_uncond";
    INFO(sampler);
    how.sampler = sampler;
    with_probe(shape, [&](Probe& p) {
      vkflow_tensor_t d = nullptr, u = nullptr;
      REQUIRE(p.call->api->denoise(p.run, p.x, sigma, &d, &u) == VKFLOW_OK);
      double worst = 0;
      CHECK(worst_over(p.down(d), ref_d, 1e-5, &worst) == 0);
      INFO("worst |D - ref| " << worst);
      if (declared) {
        REQUIRE(u != nullptr);
        CHECK(worst_over(p.down(u), ref_u, 1e-5, &worst) == 0);
        INFO("worst |uncond - ref| " << worst);
        p.ops->release(p.run, u);
      } else {
        CHECK(u == nullptr);  // not declared: no unconditional prediction handed out
      }
      vkflow_tensor_t d2 = nullptr;
      CHECK(p.call->api->denoise(p.run, p.x, sigma, &d2, nullptr) == VKFLOW_OK);  // uncond not asked for
      CHECK(p.down(d2) == p.down(d));
      p.ops->release(p.run, d);
      p.ops->release(p.run, d2);
    }, how);
  }
  CHECK(sampling::sampler_needs_uncond("tp_probe_uncond"));
  CHECK_FALSE(sampling::sampler_needs_uncond("tp_ops_probe"));
}

TEST_CASE("DISCARDS_PENULTIMATE: KSampler's sigmas for a plugin that declares it drop sigmas[-2] as for dpm_2",
          "[plugins][sampling]") {
  const auto ms = sampling::ModelSampling::discrete(sampling::Prediction::Eps);
  const int steps = 6;
  with_probe({1, 1, 1, 1}, [](Probe&) {}, ProbeRun{"tp_probe_discard"});  // loads the probe plugin
  REQUIRE(sampling::sampler_discards_penultimate("tp_probe_discard"));
  CHECK_FALSE(sampling::sampler_discards_penultimate("tp_ops_probe"));
  for (const char* sched : {"karras", "normal", "simple"}) {
    INFO(sched);
    // ComfyUI's KSampler: steps + 1 sigmas, then cat(sigmas[:-2], sigmas[-1:])
    auto full = sampling::ksampler_sigmas(ms, sched, "euler", steps + 1);
    REQUIRE(full.size() == size_t(steps + 2));
    full.erase(full.end() - 2);
    const auto got = sampling::ksampler_sigmas(ms, sched, "tp_probe_discard", steps);
    CHECK(got == full);
    CHECK(got == sampling::ksampler_sigmas(ms, sched, "dpm_2", steps));
    CHECK(sampling::ksampler_sigmas(ms, sched, "tp_ops_probe", steps) == sampling::ksampler_sigmas(ms, sched, "euler", steps));
    // and the plugin receives exactly those sigmas
    std::vector<double> seen;
    with_probe({1, 4, 3, 5}, [&](Probe& p) { seen.assign(p.call->sigmas, p.call->sigmas + p.call->sigma_count); },
               ProbeRun{"tp_probe_discard", got});
    REQUIRE(seen.size() == got.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(seen[i] == double(got[i]));
  }
}
