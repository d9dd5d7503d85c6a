// openaimodel.UNetModel (SD1.x/2.x, SDXL with label_emb, legacy=False) under model.diffusion_model.: eps (or v) prediction
// for x [B,C,H,W], float timesteps [B] and context [B,T,context_dim].
#pragma once
#include <vector>

#include "engine/models/sd_config.h"
#include "engine/models/unet_tree.h"
#include "engine/models/weights.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

// Testing seam: the row-chunk budget of the transformer feed-forward (bytes of its widest intermediate per
// chunk); 0 restores the default. Calling thread only: tests only.
void set_feed_forward_chunk_bytes(uint64_t bytes);

class UNet {
 public:
  // Binds the block tree (unet_tree.h) to `w` once; throws naming a missing tensor. `w` outlives the UNet.
  UNet(const UNetConfig& cfg, const Weights& w, std::string prefix = kUNetPrefix);
  // Records one evaluation. `timesteps` host values (one per batch element). If `debug` is given, it
  // receives (name, tensor) of intermediates named like unet_debug.safetensors, plus "time_embed" (the time
  // embedding before SDXL's label_emb(y) is added; "emb" is the sum the ResBlocks consume).
  // `y` [B, adm_in_channels]: SDXL's vector input, required exactly when the model has one.
  Tensor forward(vk::Recorder& rec, const Tensor& x, const std::vector<float>& timesteps, const Tensor& context,
                 std::vector<std::pair<std::string, Tensor>>* debug = nullptr, const Tensor* y = nullptr) const;
  const UNetConfig& config() const { return cfg_; }

 private:
  Tensor resblock(vk::Recorder& rec, const Tensor& x, const Tensor& emb_silu, const ResBlockTree& p) const;
  Tensor feed_forward(vk::Recorder& rec, const Tensor& x, const TransformerBlockTree& p) const;
  Tensor transformer(vk::Recorder& rec, const Tensor& x, const Tensor& context, const SpatialTransformerTree& p) const;
  UNetConfig cfg_;
  UNetTree tree_;
};

}  // namespace vkf::models
