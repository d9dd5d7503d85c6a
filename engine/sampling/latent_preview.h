// Live sampler previews, as ComfyUI's Latent2RGBPreviewer: each step's denoised latent (batch item 0) is
// mapped to RGB on the GPU by a per-channel linear map (the family's latent_rgb_factors, or the ones a
// checkpoint's config sidecar gives), and only the small RGB8 image (latent resolution) is read back.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::models {
struct ModelConfig;
}

namespace vkf::sampling {

// An RGB8 image, row-major, 3 bytes a pixel (what Event::preview carries).
struct PreviewImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// rgb = sum_c latent[c] * factors[c] + bias (ComfyUI latent_formats.py), on the UNet-space latent.
struct LatentRgbFactors {
  std::vector<std::array<float, 3>> factors;  // one row per latent channel
  std::array<float, 3> bias{0.0f, 0.0f, 0.0f};
};

// The factors for a model: the config's own (sidecar `latent_rgb_factors` / `latent_rgb_factors_bias`),
// else the family's as ComfyUI has them (sd1/sd2: SD15, sdxl: SDXL); nullopt when neither applies (a
// latent channel count with no known map), in which case no preview is made.
std::optional<LatentRgbFactors> latent_rgb_for(const models::ModelConfig& cfg);
// ComfyUI's SD1.x (also SD2.x) factors.
LatentRgbFactors sd15_latent_rgb();

// CPU reference of the preview (tests): latent [C,H,W] f32 -> RGB8.
PreviewImage latent_preview_ref(const std::vector<float>& latent, int64_t C, int64_t H, int64_t W,
                                const LatentRgbFactors& f);

// Prepared once per sampling run: the factors live on the GPU; make() records one dispatch, submits and
// reads back H*W*4 bytes. Call it after the step's work was submitted (the sampler step callback).
class LatentPreviewer {
 public:
  LatentPreviewer(vk::Context& ctx, LatentRgbFactors f);
  // `latent` [B,C,H,W] f32; C must equal the factors' rows (else nullptr: nothing to show).
  std::shared_ptr<const PreviewImage> make(vk::Recorder& rec, const Tensor& latent) const;
  int channels() const { return int(f_.factors.size()); }

 private:
  LatentRgbFactors f_;
  Tensor gpu_factors_;
};

}  // namespace vkf::sampling
