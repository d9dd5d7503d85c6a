#pragma once
// One sampler golden case (shared/golden/samplers/*.safetensors, metadata key "json"): its description and
// inputs, and a run of our own pipeline on it — schedule from the engine's KSampler rules, x_init by
// noise_scaling, the sampler with the analytic denoiser and the recorded noise, inverse_noise_scaling.
// Shared by `vkflow eval sampler` and the tests.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"

namespace vkf::sampling {

struct SamplerCase {
  std::string file, sampler, scheduler;
  int steps_requested = 0;
  std::optional<double> cfg;  // CFG cases: mu_c / mu_u
  bool flow = false;          // ModelSamplingDiscreteFlow + CONST (else SD1.x discrete EPS)
  double shift = 1.0;
  double data_std = 0.5;
  Shape shape;
  std::vector<float> mu_c, mu_u, noise, step_noise;  // mu_u empty without CFG; step_noise may be empty
};

// JSON as Python's json module writes it: bare Infinity / -Infinity / NaN (outside strings) become null.
nlohmann::json parse_python_json(const std::string& text);

// Throws io::SafeTensorsError / SamplingError naming the file and field on malformed input.
SamplerCase load_sampler_case(const std::filesystem::path& path);

struct SamplerCaseResult {
  std::vector<float> sigmas;
  std::vector<float> x_out;                                      // after inverse_noise_scaling
  std::vector<std::vector<float>> x_steps, denoised_steps;       // per callback (when recorded)
  int model_calls = 0;
};

SamplerCaseResult run_sampler_case(vk::Context& ctx, const SamplerCase& c, bool record_steps = false);

}  // namespace vkf::sampling
