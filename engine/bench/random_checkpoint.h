// Full-size checkpoints with random weights for benchmarks (`vkflow bench unet --checkpoint sd15-random`):
// the tensor list comes from a layout manifest (shared/golden/manifest_sd15.json), nothing is committed or
// downloaded. A sparse safetensors file (header only) is loaded through the normal checkpoint path, so the
// config detection and layout checks run as for a real file; then every selected weight is overwritten
// with seeded pseudo-normal values * 0.02 (rank-1 "*.weight" tensors, i.e. GroupNorm/LayerNorm scales, = 1;
// biases and norm shifts random * 0.02 too, which keeps activations finite and non-trivial).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include "engine/models/checkpoint.h"

namespace vkf::bench {

// The manifest to use: `explicit_path` when given (must exist), else the first
// "<dir>/../shared/golden/<file>" or "<dir>/shared/golden/<file>" found walking up from the current
// directory (file: manifest_sd15.json, manifest_sd21.json, manifest_sdxl_base.json, ...). Throws
// std::runtime_error listing what was tried.
std::filesystem::path find_manifest(const std::string& file, const std::optional<std::filesystem::path>& explicit_path);

// Loads the parts selected in `opt` (unet/vae/text) with random weights. `opt.config` may override the
// sidecar config (default: SD1.x defaults, which is what the manifest describes).
std::shared_ptr<models::Checkpoint> random_checkpoint(vk::Context& ctx, const std::filesystem::path& manifest,
                                                      const models::LoadOptions& opt, uint64_t seed = 1);

// Fills `out` with approximately standard-normal values (Irwin-Hall sum of 4 uniforms, rescaled to unit
// variance: cheap enough for ~1e9 values; exact normality does not matter for timing).
void pseudo_normal(std::span<float> out, uint64_t seed, float scale);

}  // namespace vkf::bench
