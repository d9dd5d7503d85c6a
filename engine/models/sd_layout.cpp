#include "engine/models/sd_layout.h"

#include <unordered_set>

#include "engine/io/safetensors.h"
#include "engine/models/unet_tree.h"

namespace vkf::models {

ParamWalk::ParamWalk(Visit visit, std::string prefix) : visit_(std::move(visit)), prefix_(std::move(prefix)) {}
ParamWalk::ParamWalk(Visit visit, Resolve resolve, std::string prefix)
    : visit_(std::move(visit)), resolve_(std::move(resolve)), prefix_(std::move(prefix)) {}

ParamWalk ParamWalk::child(std::string_view name) const {
  return ParamWalk(visit_, resolve_, prefix_ + std::string(name) + ".");
}

const Tensor* ParamWalk::param(std::string_view name, std::vector<int64_t> shape) const {
  const std::string full = prefix_ + std::string(name);
  if (visit_) visit_(full, shape);
  return resolve_ ? resolve_(full) : nullptr;
}

Bound ParamWalk::linear(std::string_view name, int64_t in, int64_t out, bool bias) const {
  const std::string n(name);
  Bound b;
  b.weight = param(n + ".weight", {out, in});
  if (bias) b.bias = param(n + ".bias", {out});
  return b;
}

Bound ParamWalk::conv(std::string_view name, int64_t in, int64_t out, int64_t k) const {
  const std::string n(name);
  return {param(n + ".weight", {out, in, k, k}), param(n + ".bias", {out})};
}

Bound ParamWalk::norm(std::string_view name, int64_t ch) const {
  const std::string n(name);
  return {param(n + ".weight", {ch}), param(n + ".bias", {ch})};
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

bool is_known_extra_tensor(std::string_view n) {
  static const char* kExact[] = {"betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
                                 "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod",
                                 "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
                                 "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
                                 "denoiser.sigmas", "v_pred", "ztsnr"};
  for (const char* e : kExact)
    if (n == e) return true;
  if (n.starts_with("model_ema.")) return true;
  // Under a text tower's prefix (SD1, SD2, SDXL's two, the refiner's one).
  return n.ends_with(".embeddings.position_ids") || n.ends_with(".model.logit_scale");
}

LayoutReport check_tensors(const io::SafeTensors& st, const std::vector<TensorSpec>& required) {
  LayoutReport r;
  std::unordered_set<std::string_view> req;
  req.reserve(required.size());
  for (const auto& spec : required) req.insert(spec.name);
  for (const auto& t : st.tensors())
    if (!req.count(t.name) && !is_known_extra_tensor(t.name)) r.unknown.push_back(t.name);
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

std::string unknown_tensors_message(const std::string& file, const std::vector<std::string>& unknown) {
  constexpr size_t kShow = 8;
  std::string m = file + ": " + std::to_string(unknown.size()) + " tensor(s) not used by the model (ignored): ";
  for (size_t i = 0; i < unknown.size() && i < kShow; ++i) m += (i ? ", " : "") + unknown[i];
  if (unknown.size() > kShow) m += ", ...";
  return m;
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
