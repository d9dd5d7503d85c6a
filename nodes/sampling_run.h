// The shared path of KSampler, KSamplerAdvanced and SamplerCustomAdvanced: initial noise (ComfyUI's
// prepare_noise: CPU torch.randn over the latent shape, seeded), KSAMPLER.sample with the guider, progress
// per step (with a latent preview when the run asks for one and `preview_rgb` is known) and cancellation
// between steps.
#pragma once
#include <optional>

#include "engine/graph/node_context.h"
#include "engine/sampling/latent_preview.h"
#include "nodes/sampling_values.h"
#include "nodes/value_types.h"

namespace vkf::nodes {

struct SampleResult {
  Tensor samples;   // after inverse_noise_scaling
  Tensor denoised;  // the last step's denoised prediction (SamplerCustomAdvanced's denoised_output)
};

SampleResult run_sampling(graph::NodeContext& ctx, sampling::Guider& guider, const SamplerValue& sampler,
                          const std::vector<float>& sigmas, const NoiseValue& noise, const Tensor& latent,
                          const std::optional<sampling::LatentRgbFactors>& preview_rgb = std::nullopt);

}  // namespace vkf::nodes
