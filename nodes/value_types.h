// C++ types behind the graph's link types, shared by every node family. Tensors live on the GPU.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/graph/node_context.h"
#include "engine/models/checkpoint.h"
#include "engine/sampling/guider.h"
#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"

namespace vkf::text {
class ClipTokenizer;
}
namespace vkf::sampling {
class ModelSampling;
}

namespace vkf::nodes {

// IMAGE: [B,H,W,C] f32 in [0,1] (ComfyUI layout).
struct Image {
  Tensor pixels;
};
// MASK: [B,H,W] f32 in [0,1].
struct Mask {
  Tensor mask;
};
// LATENT: UNet-space latents [B,C,h,w] (VAE latent * scale_factor), as ComfyUI's {"samples": ...}.
struct Latent {
  Tensor samples;
  std::optional<Tensor> noise_mask;
};
// One CONDITIONING entry: cross-attention context [B,T,D], the pooled text output and SDXL's size values.
using CondEntry = sampling::Cond;
struct Conditioning {
  std::vector<CondEntry> entries;
};
// CLIP: the text encoder(s) of a checkpoint (SDXL base: CLIP-L + OpenCLIP-G; refiner: G only), with the
// layer to stop at (CLIPSetLastLayer; 0 = the family's default, models::default_clip_layer).
struct Clip {
  std::shared_ptr<models::Checkpoint> ckpt;
  std::shared_ptr<const text::ClipTokenizer> tokenizer;
  int stop_at_layer = 0;
};
// VAE: the autoencoder of a checkpoint.
struct Vae {
  std::shared_ptr<models::Checkpoint> ckpt;
};

inline vk::Context& gpu(graph::NodeContext& ctx) { return ctx.service<vk::Context>(graph::kGpuService); }

// Shape and dtype of the tensors a value holds, for the editor's link inspection ("" for other types).
inline std::string tensor_summary(const char* name, const Tensor& t) {
  return std::string(name) + " " + shape_str(t.shape()) + " " + dtype_name(t.dtype());
}
template <class T>
std::string value_summary(const T& v) {
  if constexpr (std::is_same_v<T, Image>) return tensor_summary("pixels", v.pixels);
  else if constexpr (std::is_same_v<T, Mask>) return tensor_summary("mask", v.mask);
  else if constexpr (std::is_same_v<T, Latent>)
    return tensor_summary("samples", v.samples) + (v.noise_mask ? ", " + tensor_summary("noise_mask", *v.noise_mask) : "");
  else if constexpr (std::is_same_v<T, Conditioning>)
    return v.entries.empty() ? std::string("no entries")
                             : tensor_summary("context", v.entries.front().context) +
                                   (v.entries.size() > 1 ? " (+" + std::to_string(v.entries.size() - 1) + " more)" : "");
  else return "";
}

template <class T>
graph::Value make_value(const char* type, T v, size_t bytes = 0) {
  std::string summary = value_summary(v);
  return graph::Value::object(type, std::make_shared<T>(std::move(v)), bytes).with_summary(std::move(summary));
}

}  // namespace vkf::nodes


namespace vkf::nodes {
// MODEL: the UNet of a checkpoint and how its sigmas map to timesteps / predictions.
struct Model {
  std::shared_ptr<models::Checkpoint> ckpt;
  std::shared_ptr<const sampling::ModelSampling> sampling;
};
}  // namespace vkf::nodes
