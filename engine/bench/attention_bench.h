// Attention cases for `vkflow bench ops` (table in ops_bench.cpp): SD1.x UNet level-1 shapes, batch 1.
//   self:  8 heads x 4096 tokens x 40 dims (64x64 latent, attn1)
//   cross: 8 heads x 4096 queries x 77 context tokens x 40 dims (attn2)
// FLOPs counted as 4*B*H*Lq*Lkv*D (QK^T and PV, 2 per multiply-add; softmax not counted).
#pragma once
#include "engine/bench/ops_bench.h"

namespace vkf::bench {

Result attention_self(vk::Context& ctx, const Options& opt);
Result attention_cross(vk::Context& ctx, const Options& opt);
Result attention_self_f16(vk::Context& ctx, const Options& opt);

}  // namespace vkf::bench
