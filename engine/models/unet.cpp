#include "engine/models/unet.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"
#include "engine/ops/matmul.h"
#include "engine/vk/context.h"

namespace vkf::models {

UNet::UNet(const UNetConfig& cfg, const Weights& w, std::string prefix) : cfg_(cfg), s_(w, std::move(prefix)) {}

// in_layers: GN(eps 1e-5)+SiLU -> conv3x3; + emb_layers(SiLU(emb)) per channel; out_layers: GN+SiLU -> conv3x3;
// skip: identity or conv1x1.
Tensor UNet::resblock(vk::Recorder& rec, const Tensor& x, const Tensor& emb_silu, const Scope& s) const {
  Tensor h = nn::group_norm(rec, x, s.sub("in_layers.0"), 1e-5f, true);
  h = nn::conv_same(rec, h, s.sub("in_layers.2"));
  Tensor e = nn::linear(rec, emb_silu, s.sub("emb_layers.1"));  // [B, Cout]
  h = nn::add(rec, h, e.reshape({e.dim(0), e.dim(1), 1, 1}));
  h = nn::group_norm(rec, h, s.sub("out_layers.0"), 1e-5f, true);
  h = nn::conv_same(rec, h, s.sub("out_layers.3"));
  Tensor skip = s.has("skip_connection.weight") ? nn::conv_same(rec, x, s.sub("skip_connection")) : x;
  return nn::add(rec, skip, h);
}

// GEGLU feed-forward. Its projection is 8x as wide as the tokens, the largest intermediate of the UNet
// (42 MB at 512x512, batch 2, f16), so long sequences run in row chunks whose projection stays under
// kFeedForwardChunkBytes (peak device memory), into one output tensor.
constexpr uint64_t kFeedForwardChunkBytes = 16ull << 20;
thread_local uint64_t g_ff_chunk_bytes = 0;  // test seam, per thread (0: kFeedForwardChunkBytes)

void set_feed_forward_chunk_bytes(uint64_t bytes) { g_ff_chunk_bytes = bytes; }

Tensor UNet::feed_forward(vk::Recorder& rec, const Tensor& x, const Scope& s) const {
  const Scope proj = s.sub("0.proj"), out = s.sub("2");
  const int64_t C = x.dim(-1), rows = x.numel() / C, wide = proj["weight"].dim(0);
  const int64_t per = std::max<int64_t>(1, int64_t((g_ff_chunk_bytes ? g_ff_chunk_bytes : kFeedForwardChunkBytes) / (uint64_t(wide) * dtype_size(x.dtype()))));
  if (rows <= per) return nn::linear(rec, nn::geglu(rec, nn::linear(rec, x, proj)), out);
  Shape ys = x.shape();
  ys.back() = out["weight"].dim(0);
  Tensor y = empty(rec.context(), ys, x.dtype());
  const Tensor x2 = x.reshape({rows, C}), y2 = y.reshape({rows, ys.back()});
  const Tensor* bias = out.has("bias") ? &out["bias"] : nullptr;
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t r1 = std::min(rows, r0 + per);
    Tensor g = nn::geglu(rec, nn::linear(rec, x2.slice0(r0, r1), proj));
    ops::linear(rec, y2.slice0(r0, r1), g, out["weight"], bias);
  }
  return y;
}

Tensor UNet::transformer(vk::Recorder& rec, const Tensor& x, const Tensor& context, const Scope& s, int ch,
                         int depth) const {
  const int64_t H = x.dim(2), W = x.dim(3);
  const int heads = cfg_.heads_for(ch), hd = cfg_.head_dim_for(ch);
  const float scale = 1.0f / std::sqrt(float(hd));
  Tensor h = nn::group_norm(rec, x, s.sub("norm"), 1e-6f, false);
  if (cfg_.use_linear_in_transformer) {
    h = nn::linear(rec, nn::nchw_to_nlc(rec, h), s.sub("proj_in"));
  } else {
    h = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, s.sub("proj_in")));
  }
  for (int d = 0; d < depth; ++d) {
    auto b = s.sub("transformer_blocks." + std::to_string(d));
    // self-attention
    Tensor n = nn::layer_norm(rec, h, b.sub("norm1"), 1e-5f);
    auto a1 = b.sub("attn1");
    Tensor q = nn::linear(rec, n, a1.sub("to_q"), false), k = nn::linear(rec, n, a1.sub("to_k"), false),
           v = nn::linear(rec, n, a1.sub("to_v"), false);
    h = nn::add(rec, h, nn::linear(rec, nn::attention(rec, q, k, v, heads, false, scale), a1.sub("to_out.0")));
    // cross-attention over the context
    n = nn::layer_norm(rec, h, b.sub("norm2"), 1e-5f);
    auto a2 = b.sub("attn2");
    q = nn::linear(rec, n, a2.sub("to_q"), false);
    k = nn::linear(rec, context, a2.sub("to_k"), false);
    v = nn::linear(rec, context, a2.sub("to_v"), false);
    h = nn::add(rec, h, nn::linear(rec, nn::attention(rec, q, k, v, heads, false, scale), a2.sub("to_out.0")));
    n = nn::layer_norm(rec, h, b.sub("norm3"), 1e-5f);
    h = nn::add(rec, h, feed_forward(rec, n, b.sub("ff.net")));
  }
  if (cfg_.use_linear_in_transformer) {
    h = nn::nlc_to_nchw(rec, nn::linear(rec, h, s.sub("proj_out")), H, W);
  } else {
    h = nn::conv_same(rec, nn::nlc_to_nchw(rec, h, H, W), s.sub("proj_out"));
  }
  return nn::add(rec, h, x);
}

Tensor UNet::forward(vk::Recorder& rec, const Tensor& x, const std::vector<float>& timesteps, const Tensor& context,
                     std::vector<std::pair<std::string, Tensor>>* debug, const Tensor* y) const {
  const int64_t B = x.dim(0);
  const int levels = cfg_.levels();
  const int64_t mult = int64_t(1) << (levels - 1);
  if (x.rank() != 4 || x.dim(1) != cfg_.in_channels)
    throw std::invalid_argument("unet: x must be [B," + std::to_string(cfg_.in_channels) + ",H,W], got " + shape_str(x.shape()));
  if (x.dim(2) % mult || x.dim(3) % mult)
    throw std::invalid_argument("unet: latent size " + std::to_string(x.dim(2)) + "x" + std::to_string(x.dim(3)) +
                                " must be a multiple of " + std::to_string(mult));
  if (int64_t(timesteps.size()) != B) throw std::invalid_argument("unet: one timestep per batch element expected");
  if (context.rank() != 3 || context.dim(0) != B || context.dim(2) != cfg_.context_dim)
    throw std::invalid_argument("unet: context must be [" + std::to_string(B) + ",T," + std::to_string(cfg_.context_dim) +
                                "], got " + shape_str(context.shape()));
  if (cfg_.adm_in_channels > 0 && (!y || y->rank() != 2 || y->dim(0) != B || y->dim(1) != cfg_.adm_in_channels))
    throw std::invalid_argument("unet: this model needs the vector input y [" + std::to_string(B) + "," +
                                std::to_string(cfg_.adm_in_channels) + "]" + (y ? ", got " + shape_str(y->shape()) : ""));
  if (cfg_.adm_in_channels == 0 && y) throw std::invalid_argument("unet: this model has no vector input y");
  auto keep = [&](const std::string& name, const Tensor& t) {
    if (debug) debug->emplace_back(name, t);
  };
  auto& ctx = rec.context();
  Tensor t = from_host(ctx, {B}, timesteps, DType::F32);
  Tensor temb = nn::timestep_embedding(rec, t, cfg_.model_channels);
  if (x.dtype() != DType::F32) temb = nn::cast(rec, temb, x.dtype());
  keep("t_emb", temb);
  Tensor emb = nn::linear(rec, temb, s_.sub("time_embed.0"));
  emb = nn::linear(rec, nn::silu(rec, emb), s_.sub("time_embed.2"));
  keep("time_embed", emb);  // time_embed(t_emb) alone: what sgm's unet_debug "emb" holds for SDXL (see its test)
  if (y) {
    Tensor yl = nn::linear(rec, nn::silu(rec, nn::linear(rec, *y, s_.sub("label_emb.0.0"))), s_.sub("label_emb.0.2"));
    keep("label_emb", yl);
    emb = nn::add(rec, emb, yl);
  }
  keep("emb", emb);
  Tensor emb_silu = nn::silu(rec, emb);  // every ResBlock applies SiLU before emb_layers.1

  std::vector<Tensor> skips;
  Tensor h = nn::conv_same(rec, x, s_.sub("input_blocks.0.0"));
  skips.push_back(h);
  keep("input_blocks.0", h);
  int idx = 1;
  for (int l = 0; l < levels; ++l) {
    const int ch = cfg_.level_channels(l);
    for (int r = 0; r < cfg_.num_res_blocks; ++r, ++idx) {
      auto blk = s_.sub("input_blocks." + std::to_string(idx));
      h = resblock(rec, h, emb_silu, blk.sub("0"));
      if (cfg_.has_attention(l)) h = transformer(rec, h, context, blk.sub("1"), ch, cfg_.transformer_depth[size_t(l)]);
      skips.push_back(h);
      keep("input_blocks." + std::to_string(idx), h);
    }
    if (l != levels - 1) {
      h = nn::conv(rec, h, s_.sub("input_blocks." + std::to_string(idx) + ".0.op"), 2, {1, 1, 1, 1});
      skips.push_back(h);
      keep("input_blocks." + std::to_string(idx), h);
      ++idx;
    }
  }
  const int ch_mid = cfg_.level_channels(levels - 1);
  h = resblock(rec, h, emb_silu, s_.sub("middle_block.0"));
  h = transformer(rec, h, context, s_.sub("middle_block.1"), ch_mid, cfg_.transformer_depth_middle);
  h = resblock(rec, h, emb_silu, s_.sub("middle_block.2"));
  keep("middle_block", h);
  idx = 0;
  for (int l = levels - 1; l >= 0; --l) {
    const int ch = cfg_.level_channels(l);
    for (int i = 0; i <= cfg_.num_res_blocks; ++i, ++idx) {
      auto blk = s_.sub("output_blocks." + std::to_string(idx));
      h = nn::concat_channels(rec, h, skips.back());  // h first, skip second
      skips.pop_back();
      h = resblock(rec, h, emb_silu, blk.sub("0"));
      int sub = 1;
      if (cfg_.has_attention(l)) h = transformer(rec, h, context, blk.sub(std::to_string(sub++)), ch, cfg_.transformer_depth[size_t(l)]);
      if (l != 0 && i == cfg_.num_res_blocks) h = nn::conv_same(rec, nn::upsample2x(rec, h), blk.sub(std::to_string(sub) + ".conv"));
      keep("output_blocks." + std::to_string(idx), h);
    }
  }
  h = nn::group_norm(rec, h, s_.sub("out.0"), 1e-5f, true);
  return nn::conv_same(rec, h, s_.sub("out.2"));
}

}  // namespace vkf::models
