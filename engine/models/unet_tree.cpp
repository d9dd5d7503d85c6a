#include "engine/models/unet_tree.h"

#include <string>

namespace vkf::models {
namespace {

ResBlockTree walk_resblock(const ParamWalk& w, int cin, int cout, int emb_dim) {
  ResBlockTree r;
  r.in_norm = w.norm("in_layers.0", cin);
  r.in_conv = w.conv("in_layers.2", cin, cout, 3);
  r.emb = w.linear("emb_layers.1", emb_dim, cout);
  r.out_norm = w.norm("out_layers.0", cout);
  r.out_conv = w.conv("out_layers.3", cout, cout, 3);
  if (cin != cout) r.skip = w.conv("skip_connection", cin, cout, 1);
  return r;
}

SpatialTransformerTree walk_spatial_transformer(const UNetConfig& c, const ParamWalk& w, int ch, int depth) {
  SpatialTransformerTree t;
  t.heads = c.heads_for(ch);
  t.head_dim = c.head_dim_for(ch);
  t.linear_proj = c.use_linear_in_transformer;
  const int inner = t.heads * t.head_dim;
  t.norm = w.norm("norm", ch);
  t.proj_in = t.linear_proj ? w.linear("proj_in", ch, inner) : w.conv("proj_in", ch, inner, 1);
  for (int d = 0; d < depth; ++d) {
    const ParamWalk b = w.child("transformer_blocks." + std::to_string(d));
    TransformerBlockTree tb;
    for (AttentionTree* at : {&tb.attn1, &tb.attn2}) {
      const bool cross = at == &tb.attn2;
      const ParamWalk a = b.child(cross ? "attn2" : "attn1");
      const int kv_in = cross ? c.context_dim : inner;
      at->to_q = a.linear("to_q", inner, inner, false);
      at->to_k = a.linear("to_k", kv_in, inner, false);
      at->to_v = a.linear("to_v", kv_in, inner, false);
      at->to_out = a.linear("to_out.0", inner, inner);
    }
    tb.ff_proj = b.linear("ff.net.0.proj", inner, inner * 8);  // GEGLU: value and gate, 4*inner each
    tb.ff_out = b.linear("ff.net.2", inner * 4, inner);
    tb.norm1 = b.norm("norm1", inner);
    tb.norm2 = b.norm("norm2", inner);
    tb.norm3 = b.norm("norm3", inner);
    t.blocks.push_back(tb);
  }
  t.proj_out = t.linear_proj ? w.linear("proj_out", inner, ch) : w.conv("proj_out", inner, ch, 1);
  return t;
}

}  // namespace

UNetTree walk_unet(const UNetConfig& c, const ParamWalk& w) {
  UNetTree u;
  const int mc = c.model_channels, ted = c.time_embed_dim;
  u.time_embed0 = w.linear("time_embed.0", mc, ted);
  u.time_embed2 = w.linear("time_embed.2", ted, ted);
  if (c.adm_in_channels > 0) {  // SDXL: label_emb = Sequential(Sequential(Linear, SiLU, Linear))
    u.label_emb0 = w.linear("label_emb.0.0", c.adm_in_channels, ted);
    u.label_emb2 = w.linear("label_emb.0.2", ted, ted);
  }
  u.conv_in = w.conv("input_blocks.0.0", c.in_channels, mc, 3);

  std::vector<int> skip_ch{mc};  // channels of every input block's output, popped by output blocks
  int ch = mc, idx = 1;
  for (int l = 0; l < c.levels(); ++l) {
    for (int r = 0; r < c.num_res_blocks; ++r, ++idx) {
      const ParamWalk b = w.child("input_blocks." + std::to_string(idx));
      InputBlockTree ib;
      ib.res = walk_resblock(b.child("0"), ch, c.level_channels(l), ted);
      ch = c.level_channels(l);
      if (c.has_attention(l)) ib.attn = walk_spatial_transformer(c, b.child("1"), ch, c.transformer_depth[size_t(l)]);
      u.input_blocks.push_back(std::move(ib));
      skip_ch.push_back(ch);
    }
    if (l + 1 < c.levels()) {
      InputBlockTree ib;
      ib.down = w.conv("input_blocks." + std::to_string(idx) + ".0.op", ch, ch, 3);
      u.input_blocks.push_back(std::move(ib));
      skip_ch.push_back(ch);
      ++idx;
    }
  }

  u.mid_res0 = walk_resblock(w.child("middle_block.0"), ch, ch, ted);
  u.mid_attn = walk_spatial_transformer(c, w.child("middle_block.1"), ch, c.transformer_depth_middle);
  u.mid_res2 = walk_resblock(w.child("middle_block.2"), ch, ch, ted);

  idx = 0;
  for (int l = c.levels() - 1; l >= 0; --l) {
    for (int r = 0; r <= c.num_res_blocks; ++r, ++idx) {
      const ParamWalk b = w.child("output_blocks." + std::to_string(idx));
      const int skip = skip_ch.back();
      skip_ch.pop_back();
      OutputBlockTree ob;
      ob.res = walk_resblock(b.child("0"), ch + skip, c.level_channels(l), ted);
      ch = c.level_channels(l);
      int sub = 1;
      if (c.has_attention(l))
        ob.attn = walk_spatial_transformer(c, b.child(std::to_string(sub++)), ch, c.transformer_depth[size_t(l)]);
      if (l > 0 && r == c.num_res_blocks) ob.up = b.conv(std::to_string(sub) + ".conv", ch, ch, 3);
      u.output_blocks.push_back(std::move(ob));
    }
  }

  u.out_norm = w.norm("out.0", ch);
  u.out_conv = w.conv("out.2", ch, c.out_channels, 3);
  return u;
}

}  // namespace vkf::models
