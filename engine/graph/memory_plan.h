// The device-memory plan of a graph, estimated before anything runs. Sizes are propagated through the
// graph in dependency order: a latent's size starts at EmptyLatentImage (or at VAEEncode of an image whose
// size comes from LoadImage's file header or ImageScale's literals) and flows through samplers, VAE
// decode/encode and every other node (an unknown node passes on its largest input). Per node the plan
// holds the working set at the size that reaches it: the UNet at that latent size and batch (doubled for
// CFG unless cfg is 1 or the guider is BasicGuider), a full-image VAE decode/encode (VAEDecodeTiled's at
// its tile size). Model weights come from the safetensors headers of the files loaders name, at the
// device's element size. The per-element costs are conservative figures of the SD family's layers
// (attention is flash-style, so nothing is quadratic in the pixel count); check_memory_plan compares the
// peak with the device heap so a plan that cannot fit fails at once, naming the node.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph/graph.h"
#include "engine/graph/paths.h"

namespace vkf::graph {

struct MemoryPlanItem {
  std::string node, class_type;  // the node whose activations these are
  std::string what;              // "UNet working set at 512x512 batch 1, batch doubled for CFG (from ...)"
  uint64_t bytes = 0;
};

struct MemoryPlan {
  uint64_t weights = 0;               // model files named by literal inputs, each counted once
  uint64_t values = 0;                // the latents and images the nodes output (the cache keeps them)
  std::vector<MemoryPlanItem> items;  // per node; the peak is the largest of them
  const MemoryPlanItem* largest() const;
  uint64_t peak() const;  // weights + values + the largest item
};

struct PlanOptions {
  // Bytes per weight and activation element on the device: 4 (f32) or 2 (f16 storage, `--weights f16`).
  unsigned compute_bytes = 4;
};

MemoryPlan estimate_memory(const Graph& g, const Paths& paths, const PlanOptions& opt = {});

// An error naming the largest node, the figures and a suggestion (VAEDecodeTiled, a smaller batch or size)
// when the peak exceeds `heap_bytes`; nothing when it fits (or heap_bytes is 0).
std::optional<std::string> check_memory_plan(const MemoryPlan& plan, uint64_t heap_bytes);

std::string format_bytes(uint64_t bytes);  // "1.5 GiB", "320 MiB"

}  // namespace vkf::graph
