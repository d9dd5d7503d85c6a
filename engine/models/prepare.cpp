#include "engine/models/prepare.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace vkf::models {

namespace {
std::atomic<int> g_override{-1};  // -1: none; loaders may run on executor threads
}

void set_prepare_override(std::optional<bool> on) { g_override = on ? int(*on) : -1; }

bool prepare_enabled() {
  if (const int o = g_override.load(); o >= 0) return o == 1;
  static const bool on = [] {  // read once per process
    const char* e = std::getenv("VKFLOW_PREPARE");
    return !e || std::string(e) != "0";
  }();
  return on;
}

vk::PrepareStats prepare(vk::Context& ctx, const std::function<void(vk::Recorder&)>& eval) {
  if (!prepare_enabled()) return {};
  vk::Recorder plan(ctx, vk::Recorder::Plan{});
  eval(plan);
  return vk::prepare_pipelines(ctx, plan.planned());
}

vk::PrepareStats prepare_checkpoint(vk::Context& ctx, const Checkpoint& ck) {
  // The sidecar's size when the UNet can take it (latent sides multiples of 2^(levels-1)), else 512x512.
  const auto& cfg = ck.config;
  const int64_t f = cfg.vae.downsample_factor(), m = ck.unet ? int64_t(1) << (cfg.unet.levels() - 1) : 1;
  const bool fits = cfg.image_height > 0 && cfg.image_width > 0 && cfg.image_height / f % m == 0 &&
                    cfg.image_width / f % m == 0;
  const int64_t lh = (fits ? cfg.image_height : 512) / f, lw = (fits ? cfg.image_width : 512) / f;
  return prepare(ctx, [&](vk::Recorder& rec) {
    auto text = [&](const ClipTextEncoder* enc) {
      if (!enc) return;
      const auto& c = enc->config();
      std::vector<int32_t> ids(size_t(c.max_positions), c.pad_id);
      ids.front() = c.bos_id;
      enc->forward(rec, ids, 1);
    };
    text(ck.text.get());
    text(ck.text_g.get());
    if (ck.unet) {
      const auto& u = ck.unet->config();
      const int64_t B = 2, T = 77;
      Tensor x = empty(ctx, {B, u.in_channels, lh, lw}, ck.dtype);
      Tensor c = empty(ctx, {B, T, u.context_dim}, ck.dtype);
      Tensor y;
      if (u.adm_in_channels > 0) y = empty(ctx, {B, u.adm_in_channels}, ck.dtype);
      ck.unet->forward(rec, x, std::vector<float>(size_t(B), 500.0f), c, nullptr, y.defined() ? &y : nullptr);
    }
    if (ck.vae) {
      Tensor z = empty(ctx, {1, ck.config.vae.embed_dim, lh, lw}, ck.dtype);
      ck.vae->decode(rec, z);
    }
  });
}

}  // namespace vkf::models
