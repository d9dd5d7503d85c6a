#include "engine/models/checkpoint.h"

#include "engine/io/safetensors.h"
#include "engine/vk/context.h"

namespace vkf::models {

DType default_dtype(const vk::Context& ctx) {
  return ctx.info().fp16_storage && !ctx.info().is_cpu() ? DType::F16 : DType::F32;
}

std::shared_ptr<Checkpoint> load_checkpoint(vk::Context& ctx, const std::filesystem::path& path, const LoadOptions& opt) {
  auto st = io::SafeTensors::open(path);
  auto cfg_json = find_sidecar_config(path, opt.config);
  auto ck = std::make_shared<Checkpoint>();
  ck->path = path;
  ck->config = detect_config(st, cfg_json);
  ck->dtype = opt.dtype.value_or(default_dtype(ctx));
  if (ck->dtype == DType::F16 && !ctx.info().fp16_storage) ck->dtype = DType::F32;  // device fallback
  ck->weights = std::make_shared<Weights>(ctx, ck->dtype);
  if (opt.unet) {
    ck->weights->load_prefix(st, kUNetPrefix);
    ck->unet = std::make_unique<UNet>(ck->config.unet, *ck->weights);
  }
  if (opt.vae) {
    ck->weights->load_prefix(st, kVaePrefix);
    ck->vae = std::make_unique<Vae>(ck->config.vae, *ck->weights);
  }
  if (opt.text) {
    ck->weights->load_prefix(st, kTextPrefix);
    ck->text = std::make_unique<ClipTextEncoder>(ck->config.text, *ck->weights);
  }
  return ck;
}

}  // namespace vkf::models
