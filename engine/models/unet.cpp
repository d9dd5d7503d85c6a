#include "engine/models/unet.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/models/nn.h"
#include "engine/ops/matmul.h"
#include "engine/vk/context.h"

namespace vkf::models {

UNet::UNet(const UNetConfig& cfg, const Weights& w, std::string prefix)
    : cfg_(cfg), tree_(walk_unet(cfg, ParamWalk({}, [&w](const std::string& n) { return &w.get(n); }, std::move(prefix)))) {}

// in_layers: GN(eps 1e-5)+SiLU -> conv3x3; + emb_layers(SiLU(emb)) per channel; out_layers: GN+SiLU -> conv3x3;
// skip: identity or conv1x1.
Tensor UNet::resblock(vk::Recorder& rec, const Tensor& x, const Tensor& emb_silu, const ResBlockTree& p) const {
  Tensor h = nn::group_norm(rec, x, p.in_norm, 1e-5f, true);
  h = nn::conv_same(rec, h, p.in_conv);
  Tensor e = nn::linear(rec, emb_silu, p.emb);  // [B, Cout]
  h = nn::add(rec, h, e.reshape({e.dim(0), e.dim(1), 1, 1}));
  h = nn::group_norm(rec, h, p.out_norm, 1e-5f, true);
  h = nn::conv_same(rec, h, p.out_conv);
  Tensor skip = p.skip ? nn::conv_same(rec, x, *p.skip) : x;
  return nn::add(rec, skip, h);
}

// GEGLU feed-forward. Its projection is 8x as wide as the tokens, the largest intermediate of the UNet
// (42 MB at 512x512, batch 2, f16), so long sequences run in row chunks whose projection stays under
// kFeedForwardChunkBytes (peak device memory), into one output tensor.
constexpr uint64_t kFeedForwardChunkBytes = 16ull << 20;
thread_local uint64_t g_ff_chunk_bytes = 0;  // test seam, per thread (0: kFeedForwardChunkBytes)

void set_feed_forward_chunk_bytes(uint64_t bytes) { g_ff_chunk_bytes = bytes; }

Tensor UNet::feed_forward(vk::Recorder& rec, const Tensor& x, const TransformerBlockTree& p) const {
  const Bound &proj = p.ff_proj, &out = p.ff_out;
  const int64_t C = x.dim(-1), rows = x.numel() / C, wide = proj.weight->dim(0);
  const int64_t per = std::max<int64_t>(1, int64_t((g_ff_chunk_bytes ? g_ff_chunk_bytes : kFeedForwardChunkBytes) / (uint64_t(wide) * dtype_size(x.dtype()))));
  if (rows <= per) return nn::linear(rec, nn::geglu(rec, nn::linear(rec, x, proj)), out);
  Shape ys = x.shape();
  ys.back() = out.weight->dim(0);
  Tensor y = empty(rec.context(), ys, x.dtype());
  const Tensor x2 = x.reshape({rows, C}), y2 = y.reshape({rows, ys.back()});
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t r1 = std::min(rows, r0 + per);
    Tensor g = nn::geglu(rec, nn::linear(rec, x2.slice0(r0, r1), proj));
    ops::linear(rec, y2.slice0(r0, r1), g, *out.weight, out.bias);
  }
  return y;
}

Tensor UNet::transformer(vk::Recorder& rec, const Tensor& x, const Tensor& context, const SpatialTransformerTree& p) const {
  const int64_t H = x.dim(2), W = x.dim(3);
  const float scale = 1.0f / std::sqrt(float(p.head_dim));
  Tensor h = nn::group_norm(rec, x, p.norm, 1e-6f, false);
  if (p.linear_proj) {
    h = nn::linear(rec, nn::nchw_to_nlc(rec, h), p.proj_in);
  } else {
    h = nn::nchw_to_nlc(rec, nn::conv_same(rec, h, p.proj_in));
  }
  for (const auto& b : p.blocks) {
    // self-attention
    Tensor n = nn::layer_norm(rec, h, b.norm1, 1e-5f);
    Tensor q = nn::linear(rec, n, b.attn1.to_q), k = nn::linear(rec, n, b.attn1.to_k), v = nn::linear(rec, n, b.attn1.to_v);
    h = nn::add(rec, h, nn::linear(rec, nn::attention(rec, q, k, v, p.heads, false, scale), b.attn1.to_out));
    // cross-attention over the context
    n = nn::layer_norm(rec, h, b.norm2, 1e-5f);
    q = nn::linear(rec, n, b.attn2.to_q);
    k = nn::linear(rec, context, b.attn2.to_k);
    v = nn::linear(rec, context, b.attn2.to_v);
    h = nn::add(rec, h, nn::linear(rec, nn::attention(rec, q, k, v, p.heads, false, scale), b.attn2.to_out));
    n = nn::layer_norm(rec, h, b.norm3, 1e-5f);
    h = nn::add(rec, h, feed_forward(rec, n, b));
  }
  if (p.linear_proj) {
    h = nn::nlc_to_nchw(rec, nn::linear(rec, h, p.proj_out), H, W);
  } else {
    h = nn::conv_same(rec, nn::nlc_to_nchw(rec, h, H, W), p.proj_out);
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
  const UNetTree& u = tree_;
  Tensor emb = nn::linear(rec, temb, u.time_embed0);
  emb = nn::linear(rec, nn::silu(rec, emb), u.time_embed2);
  keep("time_embed", emb);  // time_embed(t_emb) alone: what sgm's unet_debug "emb" holds for SDXL (see its test)
  if (y) {
    Tensor yl = nn::linear(rec, nn::silu(rec, nn::linear(rec, *y, *u.label_emb0)), *u.label_emb2);
    keep("label_emb", yl);
    emb = nn::add(rec, emb, yl);
  }
  keep("emb", emb);
  Tensor emb_silu = nn::silu(rec, emb);  // every ResBlock applies SiLU before emb_layers.1

  // Debug names only when asked (unet_debug.safetensors' keys).
  auto keep_block = [&](const char* kind, size_t i, const Tensor& t) {
    if (debug) debug->emplace_back(std::string(kind) + "." + std::to_string(i), t);
  };
  std::vector<Tensor> skips;
  Tensor h = nn::conv_same(rec, x, u.conv_in);
  skips.push_back(h);
  keep_block("input_blocks", 0, h);
  for (size_t i = 0; i < u.input_blocks.size(); ++i) {
    const auto& b = u.input_blocks[i];
    if (b.down) {
      h = nn::conv(rec, h, *b.down, 2, {1, 1, 1, 1});
    } else {
      h = resblock(rec, h, emb_silu, *b.res);
      if (b.attn) h = transformer(rec, h, context, *b.attn);
    }
    skips.push_back(h);
    keep_block("input_blocks", i + 1, h);
  }
  h = resblock(rec, h, emb_silu, u.mid_res0);
  h = transformer(rec, h, context, u.mid_attn);
  h = resblock(rec, h, emb_silu, u.mid_res2);
  keep("middle_block", h);
  for (size_t i = 0; i < u.output_blocks.size(); ++i) {
    const auto& b = u.output_blocks[i];
    h = nn::concat_channels(rec, h, skips.back());  // h first, skip second
    skips.pop_back();
    h = resblock(rec, h, emb_silu, b.res);
    if (b.attn) h = transformer(rec, h, context, *b.attn);
    if (b.up) h = nn::conv_same(rec, nn::upsample2x(rec, h), *b.up);
    keep_block("output_blocks", i, h);
  }
  h = nn::group_norm(rec, h, u.out_norm, 1e-5f, true);
  return nn::conv_same(rec, h, u.out_conv);
}

}  // namespace vkf::models
