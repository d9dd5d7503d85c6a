// openaimodel.UNetModel (legacy=False) as a block tree that is the checkpoint's key tree, written once:
// walk_unet names every parameter (so required_tensors lists them for the load-time check) and, given a
// binding walker, returns the tree with each module's tensors bound — UNet::forward then records from the
// bound pointers, with no name built or looked up per dispatch (stable-diffusion.cpp's habit, without its
// run-time string lookups).
#pragma once
#include <optional>
#include <vector>

#include "engine/models/sd_layout.h"

namespace vkf::models {

struct ResBlockTree {                  // ResBlock: in_layers.{0,2}, emb_layers.1, out_layers.{0,3}
  Bound in_norm, in_conv, emb, out_norm, out_conv;
  std::optional<Bound> skip;           // skip_connection (1x1) when the width changes
};

struct AttentionTree {
  Bound to_q, to_k, to_v, to_out;      // to_q/k/v without bias
};

struct TransformerBlockTree {          // BasicTransformerBlock
  Bound norm1, norm2, norm3;
  AttentionTree attn1, attn2;          // self, cross (k/v from the context)
  Bound ff_proj, ff_out;               // ff.net.0.proj (GEGLU, 2x wide), ff.net.2
};

struct SpatialTransformerTree {
  int heads = 0, head_dim = 0;
  bool linear_proj = false;            // use_linear_in_transformer: proj_in/out Linear, else 1x1 conv
  Bound norm, proj_in, proj_out;
  std::vector<TransformerBlockTree> blocks;
};

struct InputBlockTree {                // input_blocks.N (N >= 1): a ResBlock (+ transformer), or a downsample
  std::optional<ResBlockTree> res;
  std::optional<SpatialTransformerTree> attn;
  std::optional<Bound> down;           // .0.op, stride 2
};

struct OutputBlockTree {               // output_blocks.N: ResBlock over cat(h, skip) (+ transformer) (+ upsample)
  ResBlockTree res;
  std::optional<SpatialTransformerTree> attn;
  std::optional<Bound> up;             // .<k>.conv after nearest 2x
};

struct UNetTree {
  Bound time_embed0, time_embed2;
  std::optional<Bound> label_emb0, label_emb2;  // SDXL's vector input
  Bound conv_in;                                // input_blocks.0.0
  std::vector<InputBlockTree> input_blocks;     // input_blocks.1 ...
  ResBlockTree mid_res0, mid_res2;
  SpatialTransformerTree mid_attn;
  std::vector<OutputBlockTree> output_blocks;
  Bound out_norm, out_conv;                     // out.0, out.2
};

// Under the walker's prefix ("model.diffusion_model."). Bound only when `w` binds.
UNetTree walk_unet(const UNetConfig& c, const ParamWalk& w);

}  // namespace vkf::models
