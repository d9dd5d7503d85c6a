#pragma once
// The SD1.x architecture as a walk over its parameters, named exactly like the checkpoint keys
// (stable-diffusion.cpp style: the model tree is the key tree). The same walk lists what a
// checkpoint must contain and can drive weight binding in the model code, so names live in one place.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/models/sd_config.h"
#include "engine/models/weights.h"

namespace vkf::io {
class SafeTensors;
}

namespace vkf::models {

// Visits parameters under a dotted prefix. child("input_blocks.1") returns a walker whose params
// are named "<prefix>input_blocks.1.<name>". With a `resolve`, each param is also bound: the walk returns
// the tensor it names (once, at load), so the same walk lists a checkpoint's tensors and binds a model.
class ParamWalk {
 public:
  using Visit = std::function<void(const std::string& name, const std::vector<int64_t>& shape)>;
  using Resolve = std::function<const Tensor*(const std::string& name)>;
  explicit ParamWalk(Visit visit, std::string prefix = "");
  ParamWalk(Visit visit, Resolve resolve, std::string prefix);

  ParamWalk child(std::string_view name) const;
  const Tensor* param(std::string_view name, std::vector<int64_t> shape) const;  // null when not binding
  // Common modules: "<name>.weight" (+ "<name>.bias").
  Bound linear(std::string_view name, int64_t in, int64_t out, bool bias = true) const;
  Bound conv(std::string_view name, int64_t in, int64_t out, int64_t k) const;
  Bound norm(std::string_view name, int64_t ch) const;  // GroupNorm / LayerNorm: weight + bias

  const std::string& prefix() const { return prefix_; }

 private:
  Visit visit_;
  Resolve resolve_;
  std::string prefix_;
};
// A CLIP text tower's parameters, walked once (listing, or binding at load: ClipTextEncoder).
struct TextLayerTree {
  Bound ln1, ln2, out, fc1, fc2;
  Bound q, k, v;    // HF layout: self_attn.{q,k,v}_proj
  Bound in_proj;    // open_clip: attn.in_proj_{weight,bias}, rows q | k | v
};
struct TextTree {
  const Tensor* token_embedding = nullptr;
  const Tensor* position_embedding = nullptr;
  const Tensor* text_projection = nullptr;  // open_clip [W, E]
  Bound final_norm;                          // final_layer_norm / ln_final
  std::vector<TextLayerTree> layers;
};
// HF CLIPTextModel text_model under "cond_stage_model.transformer.text_model." (position_ids is
// optional in real files and so not listed).
TextTree walk_text(const TextConfig& c, const ParamWalk& w);
// open_clip text tower (SD2 "cond_stage_model.model.", SDXL "conditioner.embedders.N.model."), .visual absent.
TextTree walk_open_clip_text(const TextConfig& c, const ParamWalk& w);
TextTree walk_text_tower(const TextConfig& c, const ParamWalk& w);  // by c.open_clip

// The UNet's and the VAE's walks (walk_unet, walk_vae: their block trees) are in engine/models/unet_tree.h
// and vae_tree.h.

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
// Every tensor the architecture of `cfg` (any family) needs, with full checkpoint names.
std::vector<TensorSpec> required_tensors(const ModelConfig& cfg);

// Every tensor of an AutoencoderKL for `c`, named under `prefix` ("" for a standalone VAE file).
std::vector<TensorSpec> vae_required_tensors(const VaeConfig& c, const std::string& prefix = kVaePrefix);

struct LayoutReport {
  std::vector<std::string> missing;      // "model.diffusion_model.out.2.weight"
  std::vector<std::string> wrong_shape;  // "wrong shape for <name>: expected [..] got [..]"
  // In the file, not required and not a known extra (is_known_extra_tensor); informational, never an error.
  std::vector<std::string> unknown;
  bool ok() const { return missing.empty() && wrong_shape.empty(); }
  // "<file>: N tensors missing: a, b, ...; wrong shape for ..." (first few of each listed).
  std::string message(const std::string& file) const;
};
// Compares the checkpoint against `required`; extra keys do not fail the check, they are listed in
// `unknown` unless known.
LayoutReport check_tensors(const io::SafeTensors& st, const std::vector<TensorSpec>& required);

// Tensors real single-file checkpoints carry that no model part reads: LatentDiffusion's schedule buffers,
// model_ema.*, HF CLIP's position_ids, SDXL's denoiser.sigmas, the v_pred / ztsnr
// markers.
bool is_known_extra_tensor(std::string_view name);

// "<file>: N tensor(s) not used by the model (ignored): a, b, ..." (first few listed).
std::string unknown_tensors_message(const std::string& file, const std::vector<std::string>& unknown);

}  // namespace vkf::models
