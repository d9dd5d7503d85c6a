#include "tests/plugins/plugin_probe.h"

#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <atomic>
#include <cmath>

#include "engine/plugin/plugin_host.h"
#include "engine/sampling/analytic_denoiser.h"
#include "engine/sampling/sampler.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/gpu.h"

namespace vkf::test {
namespace {

struct ProbeCtx {
  ProbeFn fn;
  vk::Recorder* rec = nullptr;
  vkflow_kernel_t spirv = nullptr;
  bool ran = false, threw = false;
};

// Called by the plugin from its sample(): no exception may unwind through the plugin's C frames.
void probe_trampoline(void* ctx, const vkflow_sample_call_t* c, const vkflow_host_t* host, vkflow_kernel_t k) {
  auto& pc = *static_cast<ProbeCtx*>(ctx);
  pc.ran = true;
  try {
    Probe p;
    p.ops = static_cast<const vkflow_tensor_ops_t*>(host->get_capability(host, VKFLOW_CAP_TENSOR_OPS));
    p.kt = static_cast<const vkflow_kernels_t*>(host->get_capability(host, VKFLOW_CAP_KERNELS));
    p.call = c;
    p.run = c->run;
    p.x = c->x;
    p.kernel = k;
    p.spirv_kernel = pc.spirv;
    p.rec = pc.rec;
    int64_t dims[VKFLOW_MAX_DIMS];
    uint32_t rank = 0;
    if (p.ops && p.ops->shape(c->run, c->x, dims, &rank) == VKFLOW_OK) {
      p.n = 1;
      for (uint32_t i = 0; i < rank; ++i) p.n *= size_t(dims[i]);
    }
    if (p.ops && p.kt && p.n) pc.fn(p);
  } catch (...) {
    pc.threw = true;
  }
}

using InstallFn = void (*)(void (*)(void*, const vkflow_sample_call_t*, const vkflow_host_t*, vkflow_kernel_t), void*);
using SpirvFn = vkflow_kernel_t (*)();

}  // namespace

vkflow_tensor_t Probe::fresh() {
  vkflow_tensor_t t = nullptr;
  CHECK(ops->alloc_like(run, x, &t) == VKFLOW_OK);
  return t;
}
vkflow_tensor_t Probe::up(const std::vector<float>& v) {
  vkflow_tensor_t t = fresh();
  CHECK(ops->write(run, t, v.data(), int64_t(v.size())) == VKFLOW_OK);
  return t;
}
std::vector<float> Probe::down(vkflow_tensor_t t) {
  std::vector<float> v(n, NAN);
  CHECK(ops->read(run, t, v.data(), int64_t(n)) == VKFLOW_OK);
  return v;
}

std::vector<float> probe_latent(const Shape& shape) { return random_floats(size_t(shape_numel(shape)), 99); }

void with_probe(const Shape& shape, const ProbeFn& fn, const ProbeRun& how) {
  using namespace vkf::sampling;
  const std::string file = plugin_file("test_plugin_ops_probe");
  const auto r = plugin::load_plugin(file);
  INFO(r.error);
  REQUIRE((r.loaded || r.error == "already loaded"));
  void* h = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);  // the loader's handle, not a second copy
  REQUIRE(h);
  auto install = reinterpret_cast<InstallFn>(dlsym(h, "tp_probe_install"));
  auto spirv = reinterpret_cast<SpirvFn>(dlsym(h, "tp_probe_spirv_kernel"));
  REQUIRE(install);
  REQUIRE(spirv);
  auto& ctx = gpu();
  const ModelSampling ms = ModelSampling::discrete(Prediction::Eps);
  const auto numel = size_t(shape_numel(shape));
  Tensor mu = from_host(ctx, shape, how.mu_c.empty() ? std::vector<float>(numel, 0.0f) : how.mu_c);
  Tensor mu_u = how.mu_u.empty() ? Tensor() : from_host(ctx, shape, how.mu_u);
  AnalyticDenoiser den{mu, mu_u, 0.5, false, how.cfg};
  SeededNoise noise{1};
  vk::Recorder rec{ctx};
  std::atomic<bool> cancel{false};
  SamplerEnv env{rec, ms, den.fn(), &noise, {}, &cancel};
  ProbeCtx pc{fn, &rec, spirv()};
  install(probe_trampoline, &pc);
  const Tensor x0 = from_host(ctx, shape, probe_latent(shape));
  const Tensor out = run_sampler(how.sampler, env, x0, how.sigmas);
  install(nullptr, nullptr);
  dlclose(h);
  CHECK(pc.ran);
  CHECK_FALSE(pc.threw);
  CHECK(to_host(ctx, out) == to_host(ctx, x0));  // the probe left the latent alone
}

}  // namespace vkf::test
