#include "engine/models/vae_tree.h"

#include <string>

namespace vkf::models {
namespace {

VaeResBlockTree walk_vae_resblock(const ParamWalk& w, int cin, int cout) {
  VaeResBlockTree r;
  r.norm1 = w.norm("norm1", cin);
  r.conv1 = w.conv("conv1", cin, cout, 3);
  r.norm2 = w.norm("norm2", cout);
  r.conv2 = w.conv("conv2", cout, cout, 3);
  if (cin != cout) r.nin_shortcut = w.conv("nin_shortcut", cin, cout, 1);
  return r;
}

VaeMidTree walk_vae_mid(const VaeConfig& c, const ParamWalk& m, int ch) {
  VaeMidTree t;
  t.block_1 = walk_vae_resblock(m.child("block_1"), ch, ch);
  if (c.mid_attn) {
    const ParamWalk a = m.child("attn_1");
    VaeMidTree::Attn at;
    at.norm = a.norm("norm", ch);
    at.q = a.conv("q", ch, ch, 1);
    at.k = a.conv("k", ch, ch, 1);
    at.v = a.conv("v", ch, ch, 1);
    at.proj_out = a.conv("proj_out", ch, ch, 1);
    t.attn_1 = at;
  }
  t.block_2 = walk_vae_resblock(m.child("block_2"), ch, ch);
  return t;
}

}  // namespace

VaeTree walk_vae(const VaeConfig& c, const ParamWalk& w) {
  VaeTree v;
  const int nl = int(c.ch_mult.size());
  const ParamWalk enc = w.child("encoder");
  v.encoder.conv_in = enc.conv("conv_in", c.in_channels, c.ch, 3);
  v.encoder.levels.resize(size_t(nl));
  int ch = c.ch;
  for (int l = 0; l < nl; ++l) {
    const ParamWalk d = enc.child("down." + std::to_string(l));
    const int cout = c.ch * c.ch_mult[size_t(l)];
    auto& lv = v.encoder.levels[size_t(l)];
    for (int r = 0; r < c.num_res_blocks; ++r) {
      lv.blocks.push_back(walk_vae_resblock(d.child("block." + std::to_string(r)), ch, cout));
      ch = cout;
    }
    if (l + 1 < nl) lv.resample = d.conv("downsample.conv", ch, ch, 3);
  }
  v.encoder.mid = walk_vae_mid(c, enc.child("mid"), ch);
  v.encoder.norm_out = enc.norm("norm_out", ch);
  v.encoder.conv_out = enc.conv("conv_out", ch, 2 * c.z_channels, 3);  // double_z: mean and logvar

  const ParamWalk dec = w.child("decoder");
  ch = c.ch * c.ch_mult.back();
  v.decoder.conv_in = dec.conv("conv_in", c.z_channels, ch, 3);
  v.decoder.mid = walk_vae_mid(c, dec.child("mid"), ch);
  v.decoder.levels.resize(size_t(nl));
  for (int l = nl - 1; l >= 0; --l) {  // up.i is indexed by resolution level, visited deepest first
    const ParamWalk u = dec.child("up." + std::to_string(l));
    const int cout = c.ch * c.ch_mult[size_t(l)];
    auto& lv = v.decoder.levels[size_t(l)];
    for (int r = 0; r <= c.num_res_blocks; ++r) {
      lv.blocks.push_back(walk_vae_resblock(u.child("block." + std::to_string(r)), ch, cout));
      ch = cout;
    }
    if (l > 0) lv.resample = u.conv("upsample.conv", ch, ch, 3);
  }
  v.decoder.norm_out = dec.norm("norm_out", ch);
  v.decoder.conv_out = dec.conv("conv_out", ch, c.out_ch, 3);

  v.quant_conv = w.conv("quant_conv", 2 * c.z_channels, 2 * c.embed_dim, 1);
  v.post_quant_conv = w.conv("post_quant_conv", c.embed_dim, c.z_channels, 1);
  return v;
}

}  // namespace vkf::models
