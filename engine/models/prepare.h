// Two-phase models: at load, one evaluation of each network is planned (recorded by a planning Recorder,
// nothing dispatched) and every pipeline it would use is built and, on lavapipe, JIT-compiled ahead of
// time (engine/vk/pipeline_warm.h), so the first image pays no compile stalls.
#pragma once
#include <functional>
#include <optional>

#include "engine/models/checkpoint.h"
#include "engine/vk/pipeline_warm.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

// False under VKFLOW_PREPARE=0 (the lazy path: pipelines built and compiled at first dispatch).
bool prepare_enabled();
// Test seam: forces prepare_enabled() for the whole process (nullopt: back to VKFLOW_PREPARE). The test
// runner sets VKFLOW_PREPARE=0 so loaders stay lazy; the [prepare] tests turn it back on.
void set_prepare_override(std::optional<bool> on);

// Plans `eval` (called with a planning recorder) and prepares the pipelines it dispatches.
vk::PrepareStats prepare(vk::Context& ctx, const std::function<void(vk::Recorder&)>& eval);

// The checkpoint's networks at ComfyUI's default job: EmptyLatentImage 512x512 (or the config sidecar's
// "image_size", ModelConfig::image_height/width), a CFG batch of 2 through the
// UNet, one 77-token window (the tower's max_positions) per text encoder, one latent through the VAE
// decoder. Other sizes share almost every pipeline; those that differ (tiles chosen by width) build at
// first use.
vk::PrepareStats prepare_checkpoint(vk::Context& ctx, const Checkpoint& ck);

}  // namespace vkf::models
