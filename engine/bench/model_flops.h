// Analytic FLOP (and parameter) counts of one SD1.x network evaluation, walking the same config the
// model code walks (unet.cpp, vae.cpp, clip_text.cpp). Only multiply-add work is counted, 2 FLOPs per
// multiply-add: convolutions, linears, attention QK^T and PV (full L×L, also for the causal text mask).
// Norms, softmax, activations and adds are O(elements) and left out (<1% of an SD1.5 UNet).
#pragma once
#include <cstdint>

#include "engine/models/sd_config.h"

namespace vkf::bench {

struct FlopCount {
  double conv = 0;       // conv2d (incl. 1x1 proj_in/proj_out, skip and VAE q/k/v convs)
  double linear = 0;     // linear layers (time embedding, emb_layers, attention projections, FF, CLIP MLP)
  double attention = 0;  // QK^T + PV
  double params = 0;     // parameters touched (weights, biases, norm affine, embeddings)

  double total() const { return conv + linear + attention; }
  FlopCount& operator+=(const FlopCount& o) {
    conv += o.conv, linear += o.linear, attention += o.attention, params += o.params;
    return *this;
  }
};

// One UNet ResBlock (cin -> cout channels at h×w, batch b, time-embedding width emb_dim).
FlopCount resblock_flops(int64_t b, int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t emb_dim);
// One SpatialTransformer on ch channels at h×w with `depth` blocks and a context of ctx_len×ctx_dim.
FlopCount transformer_flops(const models::UNetConfig& c, int64_t b, int64_t h, int64_t w, int64_t ch, int depth,
                            int64_t ctx_len);
// Whole UNet for latent [b, in_channels, h, w] and context [b, ctx_len, context_dim].
FlopCount unet_flops(const models::UNetConfig& c, int64_t b, int64_t h, int64_t w, int64_t ctx_len = 77);
// VAE decoder (post_quant_conv + Decoder) for latent [b, embed_dim, h, w].
FlopCount vae_decode_flops(const models::VaeConfig& c, int64_t b, int64_t h, int64_t w);
// CLIP text transformer for b sequences of t tokens (params include token/position embeddings).
FlopCount text_flops(const models::TextConfig& c, int64_t b, int64_t t);

}  // namespace vkf::bench
