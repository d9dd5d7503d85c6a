#include "engine/bench/model_flops.h"

#include <vector>

namespace vkf::bench {
namespace {

using D = double;

// Each helper adds the work of one layer applied at `n` positions (pixels or tokens, batch included).
void conv(FlopCount& f, D n, D cin, D cout, D k, bool bias = true) {
  f.conv += 2 * n * cin * cout * k * k;
  f.params += cin * cout * k * k + (bias ? cout : 0);
}
void linear(FlopCount& f, D n, D in, D out, bool bias = true) {
  f.linear += 2 * n * in * out;
  f.params += in * out + (bias ? out : 0);
}
void norm(FlopCount& f, D ch) { f.params += 2 * ch; }  // GroupNorm / LayerNorm affine
// QK^T and PV for b sequences: lq queries against lk keys, total width `dim` (heads × head_dim).
void attention(FlopCount& f, D b, D lq, D lk, D dim) { f.attention += 2 * (2 * b * lq * lk * dim); }

}  // namespace

FlopCount resblock_flops(int64_t b, int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t emb_dim) {
  FlopCount f;
  const D n = D(b) * D(h) * D(w);
  norm(f, D(cin));
  conv(f, n, D(cin), D(cout), 3);
  linear(f, D(b), D(emb_dim), D(cout));
  norm(f, D(cout));
  conv(f, n, D(cout), D(cout), 3);
  if (cin != cout) conv(f, n, D(cin), D(cout), 1);
  return f;
}

FlopCount transformer_flops(const models::UNetConfig& c, int64_t b, int64_t h, int64_t w, int64_t ch, int depth,
                            int64_t ctx_len) {
  FlopCount f;
  const D n = D(b) * D(h) * D(w), C = D(ch), tokens = D(h) * D(w), ctx = D(c.context_dim);
  norm(f, C);
  auto proj = [&] { c.use_linear_in_transformer ? linear(f, n, C, C) : conv(f, n, C, C, 1); };
  proj();  // proj_in
  for (int d = 0; d < depth; ++d) {
    norm(f, C);
    for (int i = 0; i < 3; ++i) linear(f, n, C, C, false);  // attn1 q, k, v
    attention(f, D(b), tokens, tokens, C);
    linear(f, n, C, C);  // attn1 to_out
    norm(f, C);
    linear(f, n, C, C, false);  // attn2 q
    for (int i = 0; i < 2; ++i) linear(f, D(b) * D(ctx_len), ctx, C, false);  // attn2 k, v on the context
    attention(f, D(b), tokens, D(ctx_len), C);
    linear(f, n, C, C);  // attn2 to_out
    norm(f, C);
    linear(f, n, C, 8 * C);  // GEGLU proj (value | gate)
    linear(f, n, 4 * C, C);  // ff.net.2
  }
  proj();  // proj_out
  return f;
}

FlopCount unet_flops(const models::UNetConfig& c, int64_t b, int64_t h, int64_t w, int64_t ctx_len) {
  FlopCount f;
  const int64_t ted = c.time_embed_dim, mc = c.model_channels;
  linear(f, D(b), D(mc), D(ted));
  linear(f, D(b), D(ted), D(ted));
  conv(f, D(b) * D(h) * D(w), D(c.in_channels), D(mc), 3);
  std::vector<int64_t> skips{mc};  // channels of each skip, as in UNet::forward
  int64_t ch = mc;
  for (int l = 0; l < c.levels(); ++l) {
    const int64_t out = c.level_channels(l);
    for (int r = 0; r < c.num_res_blocks; ++r) {
      f += resblock_flops(b, h, w, ch, out, ted);
      ch = out;
      if (c.has_attention(l)) f += transformer_flops(c, b, h, w, ch, c.transformer_depth[size_t(l)], ctx_len);
      skips.push_back(ch);
    }
    if (l != c.levels() - 1) {
      h /= 2, w /= 2;  // stride-2 conv, pad 1: the model requires sizes divisible by 2^(levels-1)
      conv(f, D(b) * D(h) * D(w), D(ch), D(ch), 3);
      skips.push_back(ch);
    }
  }
  f += resblock_flops(b, h, w, ch, ch, ted);
  f += transformer_flops(c, b, h, w, ch, c.transformer_depth_middle, ctx_len);
  f += resblock_flops(b, h, w, ch, ch, ted);
  for (int l = c.levels() - 1; l >= 0; --l) {
    const int64_t out = c.level_channels(l);
    for (int i = 0; i <= c.num_res_blocks; ++i) {
      f += resblock_flops(b, h, w, ch + skips.back(), out, ted);
      skips.pop_back();
      ch = out;
      if (c.has_attention(l)) f += transformer_flops(c, b, h, w, ch, c.transformer_depth[size_t(l)], ctx_len);
      if (l != 0 && i == c.num_res_blocks) {
        h *= 2, w *= 2;
        conv(f, D(b) * D(h) * D(w), D(ch), D(ch), 3);
      }
    }
  }
  norm(f, D(ch));
  conv(f, D(b) * D(h) * D(w), D(ch), D(c.out_channels), 3);
  return f;
}

FlopCount vae_decode_flops(const models::VaeConfig& c, int64_t b, int64_t h, int64_t w) {
  FlopCount f;
  auto res = [&](D n, D cin, D cout) {
    norm(f, cin);
    conv(f, n, cin, cout, 3);
    norm(f, cout);
    conv(f, n, cout, cout, 3);
    if (cin != cout) conv(f, n, cin, cout, 1);
  };
  D n = D(b) * D(h) * D(w);
  D ch = D(c.ch) * c.ch_mult.back();
  conv(f, n, D(c.embed_dim), D(c.z_channels), 1);  // post_quant_conv
  conv(f, n, D(c.z_channels), ch, 3);             // conv_in
  res(n, ch, ch);
  if (c.mid_attn) {
    norm(f, ch);
    for (int i = 0; i < 4; ++i) conv(f, n, ch, ch, 1);  // q, k, v, proj_out
    attention(f, D(b), D(h) * D(w), D(h) * D(w), ch);
  }
  res(n, ch, ch);
  for (int i = int(c.ch_mult.size()) - 1; i >= 0; --i) {
    const D out = D(c.ch) * c.ch_mult[size_t(i)];
    for (int j = 0; j <= c.num_res_blocks; ++j) {
      res(n, ch, out);
      ch = out;
    }
    if (i != 0) {
      h *= 2, w *= 2;
      n = D(b) * D(h) * D(w);
      conv(f, n, ch, ch, 3);  // upsample.conv after nearest 2x
    }
  }
  norm(f, ch);
  conv(f, n, ch, D(c.out_ch), 3);
  return f;
}

FlopCount text_flops(const models::TextConfig& c, int64_t b, int64_t t) {
  FlopCount f;
  const D W = c.width, n = D(b) * D(t);
  f.params += D(c.vocab_size) * W + D(c.max_positions) * W;  // embeddings: lookups, no FLOPs
  for (int l = 0; l < c.layers; ++l) {
    norm(f, W);
    for (int i = 0; i < 3; ++i) linear(f, n, W, W);  // q, k, v (with bias in CLIP)
    attention(f, D(b), D(t), D(t), W);
    linear(f, n, W, W);  // out_proj
    norm(f, W);
    linear(f, n, W, D(c.intermediate));
    linear(f, n, D(c.intermediate), W);
  }
  norm(f, W);  // final_layer_norm
  return f;
}

}  // namespace vkf::bench
