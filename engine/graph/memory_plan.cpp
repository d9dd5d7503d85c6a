#include "engine/graph/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <system_error>

namespace vkf::graph {
namespace {

namespace fs = std::filesystem;

// Per-element costs in fp32 bytes, from the SD family's layer widths (SD1/2/XL share the VAE and the
// 320-channel top UNet level). UNet: at each latent position the top level keeps 3 skip activations of 320
// channels, the attention block's q/k/v/out (4 x 320), GEGLU's 2560 feed-forward channels and resnet
// temporaries (~4 x 320): ~6400 floats; lower levels add less than a third more at a quarter the positions
// each, rounded into the figure. VAE decode at full resolution: the 256-channel upsampled input of the last
// up block plus three 128-channel buffers (input, output, GroupNorm temporary): 640 floats per pixel.
constexpr uint64_t kUnetBytesPerLatentPos = 6400 * 4;
constexpr uint64_t kVaeBytesPerPixel = 640 * 4;
constexpr uint64_t kImageBytesPerPixel = 3 * 4;

struct Latent {
  std::string node;  // the EmptyLatentImage it comes from
  uint64_t width = 0, height = 0, batch = 0;
  uint64_t pixels() const { return width * height * batch; }
};

uint64_t literal_u64(const nlohmann::json& inputs, const char* name, uint64_t fallback) {
  auto it = inputs.find(name);
  if (it == inputs.end() || !it->is_number()) return fallback;
  double v = it->get<double>();
  return v >= 1 && v < 1e9 ? static_cast<uint64_t>(v) : fallback;
}

uint64_t model_file_bytes(const nlohmann::json& inputs, const char* name, const fs::path& dir) {
  auto it = inputs.find(name);
  if (it == inputs.end() || !it->is_string()) return 0;
  fs::path p = it->get<std::string>();
  if (!p.is_absolute()) p = dir / p;
  std::error_code ec;
  uint64_t n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

bool is_sampler(const std::string& c) {
  return c == "KSampler" || c == "KSamplerAdvanced" || c == "SamplerCustomAdvanced" || c == "SamplerCustom" ||
         c == "DDIMInversion";
}

// The largest EmptyLatentImage upstream of every node (iteratively: chains may be 10^5 nodes deep).
std::map<std::string, Latent> upstream_latents(const Graph& g) {
  std::map<std::string, Latent> memo;
  std::map<std::string, bool> open;
  for (const Node& root : g.nodes()) {
    if (memo.count(root.id)) continue;
    std::vector<const Node*> stack{&root};
    while (!stack.empty()) {
      const Node* n = stack.back();
      if (memo.count(n->id)) { stack.pop_back(); continue; }
      bool pending = false;
      if (!open[n->id]) {
        open[n->id] = true;
        for (auto& [k, v] : n->inputs().items()) {
          auto l = is_link(v) ? parse_link(v) : std::nullopt;
          if (!l || memo.count(l->node) || open[l->node]) continue;  // done, or a cycle (validation reports it)
          if (const Node* src = g.find(l->node)) { stack.push_back(src); pending = true; }
        }
        if (pending) continue;
      }
      Latent best;
      if (n->class_type == "EmptyLatentImage") {
        const auto& in = n->inputs();
        best = {n->id, literal_u64(in, "width", 512), literal_u64(in, "height", 512), literal_u64(in, "batch_size", 1)};
      }
      for (auto& [k, v] : n->inputs().items()) {
        auto l = is_link(v) ? parse_link(v) : std::nullopt;
        if (!l) continue;
        auto it = memo.find(l->node);
        if (it != memo.end() && it->second.pixels() > best.pixels()) best = it->second;
      }
      memo[n->id] = best;
      stack.pop_back();
    }
  }
  return memo;
}

std::string size_text(const Latent& l) {
  return std::to_string(l.width) + "x" + std::to_string(l.height) + " batch " + std::to_string(l.batch);
}

}  // namespace

const MemoryPlanItem* MemoryPlan::largest() const {
  auto it = std::max_element(items.begin(), items.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  return it == items.end() ? nullptr : &*it;
}

uint64_t MemoryPlan::peak() const {
  const MemoryPlanItem* l = largest();
  return weights + (l ? l->bytes : 0);
}

MemoryPlan estimate_memory(const Graph& g, const Paths& paths) {
  MemoryPlan plan;
  const auto latents = upstream_latents(g);
  for (const Node& n : g.nodes()) {
    const auto& in = n.inputs();
    const std::string& c = n.class_type;
    if (c == "CheckpointLoaderSimple") plan.weights += model_file_bytes(in, "ckpt_name", paths.models_dir / "checkpoints");
    if (c == "VAELoader") plan.weights += model_file_bytes(in, "vae_name", paths.models_dir / "vae");
    auto it = latents.find(n.id);
    if (it == latents.end() || it->second.pixels() == 0) continue;
    const Latent& l = it->second;
    const uint64_t latent_pos = (l.width / 8) * (l.height / 8) * l.batch;
    const uint64_t image = l.pixels() * kImageBytesPerPixel;
    const std::string from = " (from node " + l.node + ", EmptyLatentImage " + size_text(l) + ")";
    if (c == "EmptyLatentImage") {
      plan.items.push_back({n.id, c, "latent" + from, latent_pos * 4 * 4});
    } else if (is_sampler(c)) {
      plan.items.push_back({n.id, c, "UNet working set, batch doubled for CFG" + from,
                            latent_pos * 2 * kUnetBytesPerLatentPos + latent_pos * 4 * 4 * 4});
    } else if (c == "VAEDecode" || c == "VAEEncode") {
      plan.items.push_back({n.id, c, "full-image VAE working set" + from, l.pixels() * kVaeBytesPerPixel + image});
    } else if (c == "VAEDecodeTiled" || c == "VAEEncodeTiled") {
      const uint64_t t = literal_u64(in, "tile_size", 512);
      const uint64_t tile = std::min(l.width, t) * std::min(l.height, t) * l.batch;
      plan.items.push_back({n.id, c, "tiled VAE working set" + from, tile * kVaeBytesPerPixel + 2 * image});
    }
  }
  return plan;
}

std::string format_bytes(uint64_t bytes) {
  char buf[64];
  if (bytes >= (uint64_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(1 << 30));
  else std::snprintf(buf, sizeof buf, "%.0f MiB", double(bytes) / double(1 << 20));
  return buf;
}

std::optional<std::string> check_memory_plan(const MemoryPlan& plan, uint64_t heap_bytes) {
  if (heap_bytes == 0 || plan.peak() <= heap_bytes) return std::nullopt;
  std::string msg;
  if (const MemoryPlanItem* l = plan.largest()) {
    msg = "node " + l->node + " (" + l->class_type + ") needs an estimated " + format_bytes(l->bytes) + " for its " +
          l->what + ", plus " + format_bytes(plan.weights) + " of model weights: " + format_bytes(plan.peak()) +
          " planned, more than the device's " + format_bytes(heap_bytes) + "; ";
    msg += l->class_type == "VAEDecode" || l->class_type == "VAEEncode"
               ? "decode with VAEDecodeTiled (encode with VAEEncodeTiled), or use a smaller batch_size or image size"
               : "use a smaller batch_size or image size (and VAEDecodeTiled to decode)";
  } else {
    msg = "the model weights alone (" + format_bytes(plan.weights) + ") exceed the device's " + format_bytes(heap_bytes);
  }
  return msg + " (--skip-memory-check runs it anyway)";
}

}  // namespace vkf::graph
