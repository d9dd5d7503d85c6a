#include "engine/models/sd_layout.h"

#include <unordered_set>

#include "engine/io/safetensors.h"
#include "engine/models/unet_tree.h"
#include "engine/models/vae_tree.h"

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

// ---- CLIP text ----------------------------------------------------------------------------------

TextTree walk_text(const TextConfig& c, const ParamWalk& w) {
  const int W = c.width;
  TextTree t;
  t.token_embedding = w.param("embeddings.token_embedding.weight", {c.vocab_size, W});
  t.position_embedding = w.param("embeddings.position_embedding.weight", {c.max_positions, W});
  for (int i = 0; i < c.layers; ++i) {
    const ParamWalk l = w.child("encoder.layers." + std::to_string(i));
    TextLayerTree y;
    y.q = l.linear("self_attn.q_proj", W, W);
    y.k = l.linear("self_attn.k_proj", W, W);
    y.v = l.linear("self_attn.v_proj", W, W);
    y.out = l.linear("self_attn.out_proj", W, W);
    y.ln1 = l.norm("layer_norm1", W);
    y.ln2 = l.norm("layer_norm2", W);
    y.fc1 = l.linear("mlp.fc1", W, c.intermediate);
    y.fc2 = l.linear("mlp.fc2", c.intermediate, W);
    t.layers.push_back(y);
  }
  t.final_norm = w.norm("final_layer_norm", W);
  return t;
}

TextTree walk_open_clip_text(const TextConfig& c, const ParamWalk& w) {
  const int W = c.width;
  TextTree t;
  t.token_embedding = w.param("token_embedding.weight", {c.vocab_size, W});
  t.position_embedding = w.param("positional_embedding", {c.max_positions, W});
  for (int i = 0; i < c.layers; ++i) {
    const ParamWalk l = w.child("transformer.resblocks." + std::to_string(i));
    TextLayerTree y;
    y.ln1 = l.norm("ln_1", W);
    y.in_proj.weight = l.param("attn.in_proj_weight", {3 * W, W});  // rows q | k | v
    y.in_proj.bias = l.param("attn.in_proj_bias", {3 * W});
    y.out = l.linear("attn.out_proj", W, W);
    y.ln2 = l.norm("ln_2", W);
    y.fc1 = l.linear("mlp.c_fc", W, c.intermediate);
    y.fc2 = l.linear("mlp.c_proj", c.intermediate, W);
    t.layers.push_back(y);
  }
  t.final_norm = w.norm("ln_final", W);
  t.text_projection = w.param("text_projection", {W, c.projection_dim});
  w.param("logit_scale", {});  // CLIP's contrastive temperature: required in the file, not used for text
  return t;
}

TextTree walk_text_tower(const TextConfig& c, const ParamWalk& w) {
  return c.open_clip ? walk_open_clip_text(c, w) : walk_text(c, w);
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
  // HF CLIP's position_ids under any text tower's prefix (open_clip's logit_scale is walked: it is required).
  return n.ends_with(".embeddings.position_ids");
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
