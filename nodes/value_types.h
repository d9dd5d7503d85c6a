// C++ types behind the graph's link types, shared by every node family. Tensors live on the GPU.
#pragma once
#include <memory>
#include <optional>
#include <string>
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

template <class T>
graph::Value make_value(const char* type, T v, size_t bytes = 0) {
  return graph::Value::object(type, std::make_shared<T>(std::move(v)), bytes);
}

}  // namespace vkf::nodes


namespace vkf::nodes {
// MODEL: the UNet of a checkpoint and how its sigmas map to timesteps / predictions.
struct Model {
  std::shared_ptr<models::Checkpoint> ckpt;
  std::shared_ptr<const sampling::ModelSampling> sampling;
};
}  // namespace vkf::nodes
