// Plugin samplers on the GPU: dpmpp_2m re-implemented as a plugin and Euler with churn (s_churn = 0 is
// plain Euler) against the ComfyUI sampler goldens at the built-ins' tolerance (1e-4 relative, see
// tests/sampling/test_samplers.cpp), and bit-equal to the built-ins (same fused lincombs); the
// predictor-corrector sampler against the analytic data distribution; error, NaN and cancel paths.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/io/safetensors.h"
#include "engine/ops/lincomb.h"
#include "engine/plugin/plugin_host.h"
#include "engine/sampling/analytic_denoiser.h"
#include "engine/sampling/sampler.h"
#include "engine/sampling/sampler_case.h"
#include "engine/sampling/schedulers.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/gpu.h"

using namespace vkf;
using namespace vkf::sampling;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(VKFLOW_SHARED_DIR) + "/golden/samplers/";

void require_plugin(const std::string& target) {
  const auto r = plugin::load_plugin(test::plugin_file(target));
  INFO(r.error);
  REQUIRE((r.loaded || r.error == "already loaded"));
}

double rel_err(const std::vector<float>& a, const std::vector<float>& g) {
  if (a.size() != g.size()) return INFINITY;
  double m = 0, s = 1;
  for (size_t i = 0; i < g.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(g[i]));
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
    s = std::max(s, double(std::fabs(g[i])));
  }
  return m / s;
}

// Runs every golden case of `builtin` with `plugin_name` instead; returns how many ran.
int check_against_goldens(const std::string& builtin, const std::string& plugin_name) {
  auto& ctx = test::gpu();
  std::ifstream f(kDir + "INDEX.json");
  REQUIRE(f);
  const auto idx = parse_python_json(std::string(std::istreambuf_iterator<char>(f), {}));
  int n = 0;
  for (const auto& meta : idx.at("cases")) {
    const std::string file = fs::path(meta.at("file").get<std::string>()).filename().string();
    SamplerCase c = load_sampler_case(kDir + file);
    if (c.sampler != builtin) continue;
    INFO("case " << file);
    const auto st = io::SafeTensors::open(kDir + file);
    const auto gx = st.to_f32(st.at("x_out"));
    const auto ref = run_sampler_case(ctx, c, false);
    c.sampler = plugin_name;
    const auto res = run_sampler_case(ctx, c, false);
    const double err = rel_err(res.x_out, gx);
    INFO("plugin error " << err << ", built-in " << rel_err(ref.x_out, gx));
    CHECK(err <= 1e-4);
    CHECK(res.model_calls == meta.at("model_calls").get<int>());
    CHECK(res.x_out == ref.x_out);  // same coefficients through the same fused op: bit-equal
    ++n;
  }
  return n;
}

// A small run outside the goldens: latent of `shape`, analytic denoiser, seeded noise.
struct Small {
  vk::Context& ctx = test::gpu();
  Shape shape{1, 4, 8, 8};
  ModelSampling ms = ModelSampling::discrete(Prediction::Eps);
  Tensor mu = from_host(ctx, shape, test::random_floats(size_t(shape_numel(shape)), 7, -0.5f, 0.5f));
  AnalyticDenoiser den{mu, Tensor(), 0.5, false};
  SeededNoise noise{42};
  vk::Recorder rec{ctx};
  std::atomic<bool> cancel{false};
  SamplerEnv env{rec, ms, den.fn(), &noise, {}, &cancel};
  Tensor run(const std::string& sampler, int steps, const SamplerOptions& opt = {}) {
    const auto sig = ksampler_sigmas(ms, "karras", sampler, steps);
    Tensor n0 = from_host(ctx, shape, test::random_floats(size_t(shape_numel(shape)), 3));
    return ksampler_sample(sampler, env, n0, Tensor(), sig, opt);
  }
};

}  // namespace

TEST_CASE("dpmpp_2m as a plugin matches the goldens and the built-in", "[plugins][sampling]") {
  require_plugin("dpmpp_2m_plugin");
  CHECK(check_against_goldens("dpmpp_2m", "dpmpp_2m_plugin") >= 3);
}

TEST_CASE("euler_churn plugin with s_churn 0 matches the euler goldens", "[plugins][sampling]") {
  require_plugin("euler_churn_plugin");
  CHECK(check_against_goldens("euler", "euler_churn") >= 1);
}

TEST_CASE("euler_churn with churn draws noise and stays finite, parameters reach the plugin", "[plugins][sampling]") {
  require_plugin("euler_churn_plugin");
  Small s;
  const auto plain = to_host(s.ctx, s.run("euler_churn", 6));
  CHECK(s.noise.calls() == 0);
  SamplerOptions opt;
  opt.params["s_churn"] = 2.0;
  const auto churned = to_host(s.ctx, s.run("euler_churn", 6, opt));
  CHECK(s.noise.calls() == 6);  // gamma > 0 at every sigma in [s_tmin, s_tmax]
  CHECK(test::max_abs_diff(plain, churned) > 1e-3f);
  for (float v : churned) REQUIRE(std::isfinite(v));
}

TEST_CASE("predictor-corrector VE/VP sample the analytic data distribution", "[plugins][sampling]") {
  require_plugin("pc_sampler_plugin");
  // Data x0 ~ N(mu, 0.5^2) per element: final samples minus mu should have std ~0.5 and mean ~0 (256
  // elements: the std estimate's own error is ~0.5/sqrt(512) = 0.02; the discretisation adds some).
  for (const char* name : {"pc_ve", "pc_vp"}) {
    INFO(name);
    Small s;
    SamplerOptions opt;
    opt.params["snr"] = 0.16;
    opt.params["corrector_steps"] = 1;
    const auto out = to_host(s.ctx, s.run(name, 30, opt));
    const auto mu = to_host(s.ctx, s.mu);
    double mean = 0, var = 0;
    for (size_t i = 0; i < out.size(); ++i) mean += out[i] - mu[i];
    mean /= double(out.size());
    for (size_t i = 0; i < out.size(); ++i) var += std::pow(out[i] - mu[i] - mean, 2);
    const double sd = std::sqrt(var / double(out.size()));
    CHECK(std::fabs(mean) < 0.1);
    CHECK(sd > 0.35);
    CHECK(sd < 0.65);
    CHECK(s.den.calls() == 30 * 2);  // corrector + predictor per level
  }
}

TEST_CASE("a plugin sampler's error, NaN, garbage result or exception becomes an error naming sampler and plugin", "[plugins][sampling]") {
  require_plugin("test_plugin_sample_error");
  require_plugin("test_plugin_nan");
  Small s;
  try {
    s.run("tp_sample_error", 4);
    FAIL("no error");
  } catch (const SamplingError& e) {
    const std::string m = e.what();
    CHECK(m.find("sampler 'tp_sample_error'") != std::string::npos);
    CHECK(m.find("org.vkflow.test.sample_error") != std::string::npos);
    CHECK(m.find("tp: deliberate failure in step 1") != std::string::npos);
  }
  try {
    s.run("tp_nan", 4);
    FAIL("no error");
  } catch (const SamplingError& e) {
    const std::string m = e.what();
    CHECK(m.find("org.vkflow.test.nan") != std::string::npos);
    CHECK(m.find("256 NaN") != std::string::npos);
  }
  // garbage from the plugin: a result that is no handle of the call, an exception out of sample()
  require_plugin("test_plugin_bad_result");
  require_plugin("test_plugin_throw_sample");
  for (const auto& [name, what] : {std::pair<std::string, std::string>{"tp_bad_result", "returned no valid result tensor"},
                                   {"tp_throw_sample", "an exception escaped the plugin's sample()"}}) {
    INFO(name);
    try {
      s.run(name, 4);
      FAIL("no error");
    } catch (const SamplingError& e) {
      const std::string m = e.what();
      INFO(m);
      CHECK(m.find("sampler '" + name + "'") != std::string::npos);
      CHECK(m.find(name == "tp_bad_result" ? "test_plugin_bad_result.so" : "test_plugin_throw_sample.so") !=
            std::string::npos);
      CHECK(m.find(what) != std::string::npos);
    }
  }
  CHECK(to_host(s.ctx, s.run("euler", 2)).size() == 256);  // the engine keeps working
}

TEST_CASE("cancel stops a plugin that ignores it within one step", "[plugins][sampling]") {
  require_plugin("test_plugin_ignore_cancel");
  Small s;
  int calls = 0;
  const DenoiseFn inner = s.env.denoise;
  s.env.denoise = [&](vk::Recorder& rec, const Tensor& x, double sigma) {
    if (++calls == 3) s.cancel = true;
    return inner(rec, x, sigma);
  };
  CHECK_THROWS_AS(s.run("tp_ignore_cancel", 4), SamplingCancelled);
  CHECK(calls == 3);  // the plugin kept asking 10000 times; the host ran the model no more
}

TEST_CASE("a plugin that stops calling the host cannot hang the run past the cancel plus one step",
          "[plugins][sampling]") {
  require_plugin("test_plugin_spin");
  void* h = dlopen(test::plugin_file("test_plugin_spin").c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(h);
  auto* stop = static_cast<volatile int*>(dlsym(h, "tp_spin_stop"));
  auto* exits = static_cast<volatile int*>(dlsym(h, "tp_spin_exits"));
  REQUIRE(stop);
  REQUIRE(exits);
  Small s;
  // cancel from another thread while the plugin sleeps in its own loop (it never calls the host again)
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s.cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(s.run("tp_spin", 4), SamplingCancelled);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  canceller.join();
  // the host gave up after the grace period (0.5 s, the steps here are far shorter), not after the
  // plugin's own 60 s; a generous bound, not a timing measurement
  CHECK(waited < 20.0);
  CHECK(*exits == 0);  // it really was still running when the host moved on
  // the engine keeps working on this thread while the abandoned plugin thread still runs
  s.cancel = false;
  CHECK(to_host(s.ctx, s.run("euler", 2)).size() == 256);
  *stop = 1;  // let the abandoned thread finish (its remaining host calls return at once)
  for (int i = 0; i < 5000 && !*exits; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(*exits == 1);
  dlclose(h);
}
