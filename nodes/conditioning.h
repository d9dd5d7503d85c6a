// Text encoding shared by the CLIPTextEncode family of nodes.
#pragma once
#include <string>

#include "engine/models/sdxl_conditioner.h"
#include "nodes/value_types.h"

namespace vkf::nodes {

// One CONDITIONING entry from prompts: `text_l` goes to the SD1/SD2 tower or SDXL's CLIP-L, `text_g` to
// OpenCLIP-G (the same text for CLIPTextEncode); context + pooled output + the given size values.
CondEntry encode_clip_text(vk::Context& g, const Clip& clip, const std::string& text_l, const std::string& text_g,
                           const models::SizeCond& size);

}  // namespace vkf::nodes
