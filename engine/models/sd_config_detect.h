#pragma once
// Shape-only half of detect_config (internal to engine/models): everything the weights determine.
#include <string>

#include "engine/models/sd_config.h"

namespace vkf::models::detail {

// Fills every field the tensor shapes determine; leaves the others at their defaults.
// Throws ModelConfigError naming the file and the tensor it needed.
ModelConfig detect_from_weights(const io::SafeTensors& st);

// Applies `config` on top of `detected` (file name `ckpt_name` for messages): fills what shapes
// cannot tell, and throws when a value contradicts the weights.
void merge_config_json(ModelConfig& detected, const nlohmann::json& config, const std::string& ckpt_name);

}  // namespace vkf::models::detail
