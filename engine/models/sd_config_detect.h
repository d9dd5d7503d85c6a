#pragma once
// Shape-only half of detect_config (internal to engine/models): everything the weights determine.
#include <string>

#include "engine/models/sd_config.h"

namespace vkf::models::detail {

// Fills every field the tensor shapes determine; leaves the others at their defaults.
// Throws ModelConfigError naming the file and the tensor it needed.
ModelConfig detect_from_weights(const io::SafeTensors& st);

// The AutoencoderKL hyper-parameters from the shapes of the tensors under `prefix` ("first_stage_model."
// in a checkpoint, "" in a standalone VAE file).
VaeConfig detect_vae_from_weights(const io::SafeTensors& st, const std::string& prefix);

// Applies `config` on top of `detected` (file name `ckpt_name` for messages): fills what shapes
// cannot tell, and throws when a value contradicts the weights.
void merge_config_json(ModelConfig& detected, const nlohmann::json& config, const std::string& ckpt_name);
// The same for a VAE on its own: only the "vae" section and "scale_factor" are read.
void merge_vae_config_json(ModelConfig& detected, const nlohmann::json& config, const std::string& file_name);

}  // namespace vkf::models::detail
