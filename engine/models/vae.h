// AutoencoderKL (ldm Encoder/Decoder) under first_stage_model.: raw VAE latents (no scale factor here;
// callers multiply/divide by the config's scale_factor for UNet space).
#pragma once
#include "engine/models/sd_config.h"
#include "engine/models/vae_tree.h"
#include "engine/models/weights.h"
#include "engine/vk/recorder.h"

namespace vkf::models {

struct Posterior {
  Tensor mean;    // [B, z, H/f, W/f]
  Tensor logvar;  // clamped to [-30, 20]
};

class Vae {
 public:
  // Binds the block tree (vae_tree.h) to `w` once; throws naming a missing tensor. `w` outlives the Vae.
  Vae(const VaeConfig& cfg, const Weights& w, std::string prefix = kVaePrefix);
  Tensor decode(vk::Recorder& rec, const Tensor& z) const;        // z [B,embed,h,w] -> image [B,3,h*f,w*f] (unclamped)
  Posterior encode(vk::Recorder& rec, const Tensor& image) const;  // image in [-1,1]
  const VaeConfig& config() const { return cfg_; }

 private:
  Tensor resblock(vk::Recorder& rec, const Tensor& x, const VaeResBlockTree& p) const;
  Tensor mid_attention(vk::Recorder& rec, const Tensor& x, const VaeMidTree::Attn& p) const;
  Tensor middle(vk::Recorder& rec, const Tensor& x, const VaeMidTree& p) const;
  VaeConfig cfg_;
  VaeTree tree_;
};

}  // namespace vkf::models
