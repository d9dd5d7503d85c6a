// The device-memory plan of a graph, estimated before anything runs: model weights (the sizes of the
// checkpoint / VAE files named by literal inputs) plus, for each latent size the graph creates, the largest
// working set of the nodes that process it: the latent itself, the UNet at that latent size and batch (with
// CFG's doubled batch) and a full-image VAE decode/encode (VAEDecodeTiled's at its tile size). The figures
// are conservative per-pixel costs of the SD family's layers in fp32 (attention is flash-style, so nothing is
// quadratic in the pixel count); check_memory_plan compares the total with the device heap so a plan that
// cannot fit fails at once, naming the node, instead of running for minutes.
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
  std::string what;              // "UNet working set at 512x512 latent 64x64 batch 1 (x2 for CFG)"
  uint64_t bytes = 0;
};

struct MemoryPlan {
  uint64_t weights = 0;               // model files named by literal inputs
  std::vector<MemoryPlanItem> items;  // per node; the peak is the largest of them
  const MemoryPlanItem* largest() const;
  uint64_t peak() const;  // weights + the largest item
};

MemoryPlan estimate_memory(const Graph& g, const Paths& paths);

// An error naming the largest node, the figures and a suggestion (VAEDecodeTiled, a smaller batch or size)
// when weights + the largest working set exceed `heap_bytes`; nothing when it fits (or heap_bytes is 0).
std::optional<std::string> check_memory_plan(const MemoryPlan& plan, uint64_t heap_bytes);

std::string format_bytes(uint64_t bytes);  // "1.5 GiB", "320 MiB"

}  // namespace vkf::graph
