// A loaded SD1.x / SD2.x / SDXL checkpoint: detected config, weights uploaded once in the compute dtype, and the
// three networks bound to them. Shared by nodes (MODEL/CLIP/VAE values) and `vkflow eval`/`bench`.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/models/clip_text.h"
#include "engine/models/sd_config.h"
#include "engine/models/unet.h"
#include "engine/models/vae.h"
#include "engine/models/weights.h"

namespace vkf::models {

struct LoadOptions {
  std::optional<std::filesystem::path> config;  // --config; else <stem>.json next to the checkpoint
  std::optional<DType> dtype;                   // default: f16 where the device supports it and is not a CPU
  bool unet = true, vae = true, text = true;    // which parts to upload
};

struct Checkpoint {
  std::filesystem::path path;
  ModelConfig config;
  DType dtype = DType::F32;
  std::shared_ptr<Weights> weights;
  std::unique_ptr<UNet> unet;
  std::unique_ptr<Vae> vae;
  std::unique_ptr<ClipTextEncoder> text;    // SD1/SD2 tower, SDXL base's CLIP-L; null for the refiner
  std::unique_ptr<ClipTextEncoder> text_g;  // SDXL OpenCLIP-G
};

std::shared_ptr<Checkpoint> load_checkpoint(vk::Context& ctx, const std::filesystem::path& path, const LoadOptions& opt = {});

// Only the VAE of `path`: a standalone VAE file (encoder.*, decoder.*, quant_conv.*, post_quant_conv.*) or
// a full SD checkpoint (the same under first_stage_model.). The result has `vae` and `weights` set and
// config.vae / config.scale_factor meaningful; opt.config or a "<stem>.json" sidecar (checkpoint config
// format) may give "scale_factor" and a "vae" section, else SD1.x's 0.18215 applies. opt.unet/text are ignored.
std::shared_ptr<Checkpoint> load_vae(vk::Context& ctx, const std::filesystem::path& path, const LoadOptions& opt = {});

// The default compute dtype for a device: f16 on GPUs with 16-bit storage, f32 on CPU (lavapipe).
DType default_dtype(const vk::Context& ctx);

}  // namespace vkf::models
