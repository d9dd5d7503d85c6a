#include "engine/models/sd_layout.h"

#include "engine/io/safetensors.h"

namespace vkf::models {

ParamWalk::ParamWalk(Visit visit, std::string prefix) : visit_(std::move(visit)), prefix_(std::move(prefix)) {}

ParamWalk ParamWalk::child(std::string_view name) const {
  return ParamWalk(visit_, prefix_ + std::string(name) + ".");
}

void ParamWalk::param(std::string_view name, std::vector<int64_t> shape) const {
  visit_(prefix_ + std::string(name), shape);
}

void ParamWalk::linear(std::string_view name, int64_t in, int64_t out, bool bias) const {
  const std::string n(name);
  param(n + ".weight", {out, in});
  if (bias) param(n + ".bias", {out});
}

void ParamWalk::conv(std::string_view name, int64_t in, int64_t out, int64_t k) const {
  const std::string n(name);
  param(n + ".weight", {out, in, k, k});
  param(n + ".bias", {out});
}

void ParamWalk::norm(std::string_view name, int64_t ch) const {
  const std::string n(name);
  param(n + ".weight", {ch});
  param(n + ".bias", {ch});
}

// ---- UNet ---------------------------------------------------------------------------------------

void walk_resblock(const ParamWalk& w, int cin, int cout, int emb_dim) {
  w.norm("in_layers.0", cin);
  w.conv("in_layers.2", cin, cout, 3);
  w.linear("emb_layers.1", emb_dim, cout);
  w.norm("out_layers.0", cout);
  w.conv("out_layers.3", cout, cout, 3);
  if (cin != cout) w.conv("skip_connection", cin, cout, 1);
}

void walk_spatial_transformer(const UNetConfig& c, const ParamWalk& w, int ch, int depth) {
  const int inner = c.heads_for(ch) * c.head_dim_for(ch);
  w.norm("norm", ch);
  if (c.use_linear_in_transformer) {
    w.linear("proj_in", ch, inner);
  } else {
    w.conv("proj_in", ch, inner, 1);
  }
  for (int d = 0; d < depth; ++d) {
    const ParamWalk b = w.child("transformer_blocks." + std::to_string(d));
    for (const char* attn : {"attn1", "attn2"}) {
      const ParamWalk a = b.child(attn);
      const int kv_in = attn[4] == '1' ? inner : c.context_dim;  // attn2 is cross-attention
      a.linear("to_q", inner, inner, false);
      a.linear("to_k", kv_in, inner, false);
      a.linear("to_v", kv_in, inner, false);
      a.linear("to_out.0", inner, inner);
    }
    b.linear("ff.net.0.proj", inner, inner * 8);  // GEGLU: value and gate, 4*inner each
    b.linear("ff.net.2", inner * 4, inner);
    b.norm("norm1", inner);
    b.norm("norm2", inner);
    b.norm("norm3", inner);
  }
  if (c.use_linear_in_transformer) {
    w.linear("proj_out", inner, ch);
  } else {
    w.conv("proj_out", inner, ch, 1);
  }
}

void walk_unet(const UNetConfig& c, const ParamWalk& w) {
  const int mc = c.model_channels, ted = c.time_embed_dim;
  w.linear("time_embed.0", mc, ted);
  w.linear("time_embed.2", ted, ted);
  if (c.adm_in_channels > 0) {  // SDXL: label_emb = Sequential(Sequential(Linear, SiLU, Linear))
    w.linear("label_emb.0.0", c.adm_in_channels, ted);
    w.linear("label_emb.0.2", ted, ted);
  }
  w.conv("input_blocks.0.0", c.in_channels, mc, 3);

  std::vector<int> skip_ch{mc};  // channels of every input block's output, popped by output blocks
  int ch = mc, idx = 1;
  for (int l = 0; l < c.levels(); ++l) {
    for (int r = 0; r < c.num_res_blocks; ++r, ++idx) {
      const ParamWalk b = w.child("input_blocks." + std::to_string(idx));
      walk_resblock(b.child("0"), ch, c.level_channels(l), ted);
      ch = c.level_channels(l);
      if (c.has_attention(l)) walk_spatial_transformer(c, b.child("1"), ch, c.transformer_depth[size_t(l)]);
      skip_ch.push_back(ch);
    }
    if (l + 1 < c.levels()) {
      w.conv("input_blocks." + std::to_string(idx) + ".0.op", ch, ch, 3);
      skip_ch.push_back(ch);
      ++idx;
    }
  }

  walk_resblock(w.child("middle_block.0"), ch, ch, ted);
  walk_spatial_transformer(c, w.child("middle_block.1"), ch, c.transformer_depth_middle);
  walk_resblock(w.child("middle_block.2"), ch, ch, ted);

  idx = 0;
  for (int l = c.levels() - 1; l >= 0; --l) {
    for (int r = 0; r <= c.num_res_blocks; ++r, ++idx) {
      const ParamWalk b = w.child("output_blocks." + std::to_string(idx));
      const int skip = skip_ch.back();
      skip_ch.pop_back();
      walk_resblock(b.child("0"), ch + skip, c.level_channels(l), ted);
      ch = c.level_channels(l);
      int sub = 1;
      if (c.has_attention(l)) walk_spatial_transformer(c, b.child(std::to_string(sub++)), ch, c.transformer_depth[size_t(l)]);
      if (l > 0 && r == c.num_res_blocks) b.conv(std::to_string(sub) + ".conv", ch, ch, 3);
    }
  }

  w.norm("out.0", ch);
  w.conv("out.2", ch, c.out_channels, 3);
}

// ---- VAE ----------------------------------------------------------------------------------------

void walk_vae_resblock(const ParamWalk& w, int cin, int cout) {
  w.norm("norm1", cin);
  w.conv("conv1", cin, cout, 3);
  w.norm("norm2", cout);
  w.conv("conv2", cout, cout, 3);
  if (cin != cout) w.conv("nin_shortcut", cin, cout, 1);
}

namespace {
void walk_vae_mid(const VaeConfig& c, const ParamWalk& m, int ch) {
  walk_vae_resblock(m.child("block_1"), ch, ch);
  if (c.mid_attn) {
    const ParamWalk a = m.child("attn_1");
    a.norm("norm", ch);
    for (const char* n : {"q", "k", "v", "proj_out"}) a.conv(n, ch, ch, 1);
  }
  walk_vae_resblock(m.child("block_2"), ch, ch);
}
}  // namespace

void walk_vae(const VaeConfig& c, const ParamWalk& w) {
  const int nl = int(c.ch_mult.size());
  const ParamWalk enc = w.child("encoder");
  enc.conv("conv_in", c.in_channels, c.ch, 3);
  int ch = c.ch;
  for (int l = 0; l < nl; ++l) {
    const ParamWalk d = enc.child("down." + std::to_string(l));
    const int cout = c.ch * c.ch_mult[size_t(l)];
    for (int r = 0; r < c.num_res_blocks; ++r) {
      walk_vae_resblock(d.child("block." + std::to_string(r)), ch, cout);
      ch = cout;
    }
    if (l + 1 < nl) d.conv("downsample.conv", ch, ch, 3);
  }
  walk_vae_mid(c, enc.child("mid"), ch);
  enc.norm("norm_out", ch);
  enc.conv("conv_out", ch, 2 * c.z_channels, 3);  // double_z: mean and logvar

  const ParamWalk dec = w.child("decoder");
  ch = c.ch * c.ch_mult.back();
  dec.conv("conv_in", c.z_channels, ch, 3);
  walk_vae_mid(c, dec.child("mid"), ch);
  for (int l = nl - 1; l >= 0; --l) {  // up.i is indexed by resolution level, visited deepest first
    const ParamWalk u = dec.child("up." + std::to_string(l));
    const int cout = c.ch * c.ch_mult[size_t(l)];
    for (int r = 0; r <= c.num_res_blocks; ++r) {
      walk_vae_resblock(u.child("block." + std::to_string(r)), ch, cout);
      ch = cout;
    }
    if (l > 0) u.conv("upsample.conv", ch, ch, 3);
  }
  dec.norm("norm_out", ch);
  dec.conv("conv_out", ch, c.out_ch, 3);

  w.conv("quant_conv", 2 * c.z_channels, 2 * c.embed_dim, 1);
  w.conv("post_quant_conv", c.embed_dim, c.z_channels, 1);
}

// ---- CLIP text ----------------------------------------------------------------------------------

void walk_text(const TextConfig& c, const ParamWalk& w) {
  const int W = c.width;
  w.param("embeddings.token_embedding.weight", {c.vocab_size, W});
  w.param("embeddings.position_embedding.weight", {c.max_positions, W});
  for (int i = 0; i < c.layers; ++i) {
    const ParamWalk l = w.child("encoder.layers." + std::to_string(i));
    for (const char* p : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"})
      l.linear(p, W, W);
    l.norm("layer_norm1", W);
    l.norm("layer_norm2", W);
    l.linear("mlp.fc1", W, c.intermediate);
    l.linear("mlp.fc2", c.intermediate, W);
  }
  w.norm("final_layer_norm", W);
}

void walk_open_clip_text(const TextConfig& c, const ParamWalk& w) {
  const int W = c.width;
  w.param("token_embedding.weight", {c.vocab_size, W});
  w.param("positional_embedding", {c.max_positions, W});
  for (int i = 0; i < c.layers; ++i) {
    const ParamWalk l = w.child("transformer.resblocks." + std::to_string(i));
    l.norm("ln_1", W);
    l.param("attn.in_proj_weight", {3 * W, W});  // rows q | k | v
    l.param("attn.in_proj_bias", {3 * W});
    l.linear("attn.out_proj", W, W);
    l.norm("ln_2", W);
    l.linear("mlp.c_fc", W, c.intermediate);
    l.linear("mlp.c_proj", c.intermediate, W);
  }
  w.norm("ln_final", W);
  w.param("text_projection", {W, c.projection_dim});
  w.param("logit_scale", {});
}

void walk_text_tower(const TextConfig& c, const ParamWalk& w) {
  if (c.open_clip) walk_open_clip_text(c, w);
  else walk_text(c, w);
}

std::vector<TensorSpec> required_tensors(const ModelConfig& cfg) {
  std::vector<TensorSpec> out;
  const auto visit = [&out](const std::string& n, const std::vector<int64_t>& s) { out.push_back({n, s}); };
  walk_unet(cfg.unet, ParamWalk(visit, kUNetPrefix));
  walk_vae(cfg.vae, ParamWalk(visit, kVaePrefix));
  if (cfg.has_text()) walk_text_tower(cfg.text, ParamWalk(visit, cfg.text.prefix));
  if (cfg.text_g) walk_text_tower(*cfg.text_g, ParamWalk(visit, cfg.text_g->prefix));
  return out;
}

std::vector<TensorSpec> vae_required_tensors(const VaeConfig& c, const std::string& prefix) {
  std::vector<TensorSpec> out;
  walk_vae(c, ParamWalk([&out](const std::string& n, const std::vector<int64_t>& s) { out.push_back({n, s}); }, prefix));
  return out;
}

// ---- checking -----------------------------------------------------------------------------------

LayoutReport check_tensors(const io::SafeTensors& st, const std::vector<TensorSpec>& required) {
  LayoutReport r;
  for (const auto& spec : required) {
    const auto* t = st.find(spec.name);
    if (!t) {
      r.missing.push_back(spec.name);
    } else if (t->shape != spec.shape) {
      r.wrong_shape.push_back("wrong shape for " + spec.name + ": expected " + io::shape_str(spec.shape) +
                              " got " + io::shape_str(t->shape));
    }
  }
  return r;
}

std::string LayoutReport::message(const std::string& file) const {
  constexpr size_t kShow = 8;  // enough to see the pattern without flooding the log
  std::string m = file + ":";
  if (!missing.empty()) {
    m += " " + std::to_string(missing.size()) + " required tensor(s) missing: ";
    for (size_t i = 0; i < missing.size() && i < kShow; ++i) m += (i ? ", " : "") + missing[i];
    if (missing.size() > kShow) m += ", ...";
    if (!wrong_shape.empty()) m += ";";
  }
  for (size_t i = 0; i < wrong_shape.size() && i < kShow; ++i) m += (i ? "; " : " ") + wrong_shape[i];
  if (wrong_shape.size() > kShow) m += "; ... (" + std::to_string(wrong_shape.size()) + " wrong shapes)";
  return m;
}

}  // namespace vkf::models
