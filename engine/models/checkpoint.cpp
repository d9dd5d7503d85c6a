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
  if (opt.text && ck->config.has_text()) {
    ck->weights->load_prefix(st, ck->config.text.prefix);
    ck->text = std::make_unique<ClipTextEncoder>(ck->config.text, *ck->weights);
  }
  if (opt.text && ck->config.text_g) {
    ck->weights->load_prefix(st, ck->config.text_g->prefix);
    ck->text_g = std::make_unique<ClipTextEncoder>(*ck->config.text_g, *ck->weights);
  }
  return ck;
}

std::shared_ptr<Checkpoint> load_vae(vk::Context& ctx, const std::filesystem::path& path, const LoadOptions& opt) {
  auto st = io::SafeTensors::open(path);
  const std::string prefix = detect_vae_prefix(st);
  // A standalone VAE file carries no scale factor: a sidecar may give one, else detect_vae_config keeps
  // SD1.x's 0.18215 (what vae-ft-mse-840000 and the other SD1.x VAEs are used with).
  auto cfg_json = find_sidecar_config(path, opt.config);
  auto ck = std::make_shared<Checkpoint>();
  ck->path = path;
  ck->config = detect_vae_config(st, prefix, cfg_json);
  ck->dtype = opt.dtype.value_or(default_dtype(ctx));
  if (ck->dtype == DType::F16 && !ctx.info().fp16_storage) ck->dtype = DType::F32;  // device fallback
  ck->weights = std::make_shared<Weights>(ctx, ck->dtype);
  // Only the four AutoencoderKL modules: a file may hold other tensors (e.g. a whole checkpoint, or a
  // training loss's weights under first_stage_model.loss.) that are not needed.
  for (const char* part : {"encoder.", "decoder.", "quant_conv.", "post_quant_conv."})
    ck->weights->load_prefix(st, prefix + part);
  ck->vae = std::make_unique<Vae>(ck->config.vae, *ck->weights, prefix);
  return ck;
}

}  // namespace vkf::models
