// The ops-probe harness: loads the test_plugin_ops_probe plugin and runs one of its samplers once, calling a
// test function inside the plugin's sample() with the C tables exactly as a plugin sees them (fetched with
// get_capability). Used by the tensor-op, kernel, flag and submit-count tests.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"
#include "vkflow_plugin.h"

namespace vkf::test {

struct Probe {
  const vkflow_tensor_ops_t* ops = nullptr;
  const vkflow_kernels_t* kt = nullptr;
  const vkflow_sample_call_t* call = nullptr;
  vkflow_run_t* run = nullptr;
  vkflow_tensor_t x = nullptr;
  vkflow_kernel_t kernel = nullptr;        // the GLSL kernel: o = alpha * a + b * b
  vkflow_kernel_t spirv_kernel = nullptr;  // the SPIR-V kernel: o = alpha * a - b
  vk::Recorder* rec = nullptr;             // the run's recorder (its submit count)
  size_t n = 0;

  vkflow_tensor_t fresh();
  vkflow_tensor_t up(const std::vector<float>& v);
  std::vector<float> down(vkflow_tensor_t t);
};

using ProbeFn = std::function<void(Probe&)>;

// How the probe's sampler is run: which of its samplers, over which sigmas, and the analytic denoiser's
// conditioning (mu_c, and mu_u with cfg when given; data std 0.5).
struct ProbeRun {
  std::string sampler = "tp_ops_probe";
  std::vector<float> sigmas = {1.0f, 0.0f};
  std::vector<float> mu_c, mu_u;  // empty: zeros / no CFG
  double cfg = 1.0;
};

// Runs `fn` inside the probe sampler's sample() on a latent of `shape` (random, seed 99). Checks that fn
// ran, threw nothing, and that the probe returned the latent unchanged.
void with_probe(const Shape& shape, const ProbeFn& fn, const ProbeRun& how = {});

// The initial latent with_probe uses for `shape`.
std::vector<float> probe_latent(const Shape& shape);

}  // namespace vkf::test
