#include "engine/sampling/latent_preview.h"

#include <algorithm>
#include <stdexcept>

#include "engine/models/sd_config.h"
#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::sampling {

LatentRgbFactors sd15_latent_rgb() {  // ComfyUI latent_formats.SD15
  return {{{0.3512f, 0.2297f, 0.3227f}, {0.3250f, 0.4974f, 0.2350f}, {-0.2829f, 0.1762f, 0.2721f},
           {-0.2120f, -0.2616f, -0.7177f}},
          {0.0f, 0.0f, 0.0f}};
}

namespace {
LatentRgbFactors sdxl_latent_rgb() {  // ComfyUI latent_formats.SDXL
  return {{{0.3651f, 0.4232f, 0.4341f}, {-0.2533f, -0.0042f, 0.1068f}, {0.1076f, 0.1111f, -0.0362f},
           {-0.3165f, -0.2492f, -0.2188f}},
          {0.1084f, -0.0175f, -0.0011f}};
}

uint8_t to_byte(float v) { return uint8_t(std::clamp((v + 1.0f) * 0.5f, 0.0f, 1.0f) * 255.0f); }
}  // namespace

std::optional<LatentRgbFactors> latent_rgb_for(const models::ModelConfig& cfg) {
  if (!cfg.latent_rgb_factors.empty()) {
    LatentRgbFactors f;
    for (size_t i = 0; i + 2 < cfg.latent_rgb_factors.size(); i += 3)
      f.factors.push_back({cfg.latent_rgb_factors[i], cfg.latent_rgb_factors[i + 1], cfg.latent_rgb_factors[i + 2]});
    if (cfg.latent_rgb_bias.size() == 3) f.bias = {cfg.latent_rgb_bias[0], cfg.latent_rgb_bias[1], cfg.latent_rgb_bias[2]};
    return f;
  }
  if (cfg.unet.in_channels != 4) return std::nullopt;
  if (cfg.family.rfind("sdxl", 0) == 0) return sdxl_latent_rgb();
  return sd15_latent_rgb();
}

PreviewImage latent_preview_ref(const std::vector<float>& latent, int64_t C, int64_t H, int64_t W,
                                const LatentRgbFactors& f) {
  PreviewImage img{int(W), int(H), std::vector<uint8_t>(size_t(H * W * 3))};
  for (int64_t i = 0; i < H * W; ++i)
    for (int k = 0; k < 3; ++k) {
      float v = f.bias[size_t(k)];
      for (int64_t c = 0; c < C; ++c) v += latent[size_t(c * H * W + i)] * f.factors[size_t(c)][size_t(k)];
      img.rgb[size_t(i * 3 + k)] = to_byte(v);
    }
  return img;
}

LatentPreviewer::LatentPreviewer(vk::Context& ctx, LatentRgbFactors f) : f_(std::move(f)) {
  std::vector<float> flat;
  for (auto& row : f_.factors) flat.insert(flat.end(), row.begin(), row.end());
  flat.insert(flat.end(), f_.bias.begin(), f_.bias.end());
  gpu_factors_ = from_host(ctx, {int64_t(flat.size())}, flat);
}

std::shared_ptr<const PreviewImage> LatentPreviewer::make(vk::Recorder& rec, const Tensor& latent) const {
  if (!latent.defined() || latent.rank() != 4 || latent.dtype() != DType::F32 || latent.dim(0) < 1 ||
      latent.dim(1) != int64_t(f_.factors.size()))
    return nullptr;
  auto& ctx = rec.context();
  const int64_t C = latent.dim(1), H = latent.dim(2), W = latent.dim(3);
  const Tensor x = latent.slice0(0, 1);
  Tensor packed = empty(ctx, {H * W}, DType::I32);
  ops::BoundRange rx = ops::bind_all(ctx, x, false, "latent_preview");
  struct {
    uint32_t C, HW, first_x;
  } p{uint32_t(C), uint32_t(H * W), rx.first};
  auto g = ops::grid_1d(uint64_t(H * W), 64);
  rec.dispatch({"latent_preview", 3, sizeof p, {{0, 64}}}, {rx.arg, ops::in(gpu_factors_), ops::out(packed)}, &p,
               sizeof p, g.x, g.y, 1, "latent_preview");
  rec.submit();
  const std::vector<std::byte> bytes = download_bytes(ctx, packed);
  auto img = std::make_shared<PreviewImage>();
  img->width = int(W), img->height = int(H);
  img->rgb.resize(size_t(H * W * 3));
  for (int64_t i = 0; i < H * W; ++i)
    for (int k = 0; k < 3; ++k) img->rgb[size_t(i * 3 + k)] = uint8_t(bytes[size_t(i * 4 + k)]);
  return img;
}

}  // namespace vkf::sampling
