// AutoencoderKL (ldm Encoder/Decoder, quant convs) as a block tree named like the checkpoint keys, walked
// once: walk_vae lists the tensors for the load-time check and, with a binding walker, returns the tree
// bound to the weights, which Vae::encode/decode record from (no name lookups per dispatch).
#pragma once
#include <optional>
#include <vector>

#include "engine/models/sd_layout.h"

namespace vkf::models {

struct VaeResBlockTree {           // norm1, conv1, norm2, conv2 (+ nin_shortcut when the width changes)
  Bound norm1, conv1, norm2, conv2;
  std::optional<Bound> nin_shortcut;
};

struct VaeMidTree {                // mid.block_1, mid.attn_1 (optional), mid.block_2
  VaeResBlockTree block_1, block_2;
  struct Attn {
    Bound norm, q, k, v, proj_out;  // 1x1 convs
  };
  std::optional<Attn> attn_1;
};

struct VaeLevelTree {              // encoder down.i / decoder up.i
  std::vector<VaeResBlockTree> blocks;
  std::optional<Bound> resample;   // downsample.conv / upsample.conv
};

struct VaeTree {
  struct Coder {
    Bound conv_in, norm_out, conv_out;
    VaeMidTree mid;
    std::vector<VaeLevelTree> levels;  // indexed by resolution level (up.i / down.i)
  } encoder, decoder;
  Bound quant_conv, post_quant_conv;
};

// Under the walker's prefix ("first_stage_model." in a checkpoint, "" in a VAE file).
VaeTree walk_vae(const VaeConfig& c, const ParamWalk& w);

}  // namespace vkf::models
