// Values of the custom-sampling link types: SAMPLER, SIGMAS, NOISE, GUIDER.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampling/guider.h"
#include "engine/sampling/latent_preview.h"
#include "engine/sampling/sampler.h"

namespace vkf::nodes {

struct SamplerValue {
  std::string name;
  sampling::SamplerOptions options;
};
struct SigmasValue {
  std::vector<float> sigmas;
};
struct NoiseValue {
  bool disabled = false;
  uint64_t seed = 0;
};
struct GuiderValue {
  std::shared_ptr<sampling::Guider> guider;
  std::optional<sampling::LatentRgbFactors> latent_rgb;  // the model's preview map (latent_preview.h)
};

}  // namespace vkf::nodes
