#include "engine/graph/memory_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <system_error>

#include "engine/graph/order.h"
#include "engine/graph/registry.h"
#include "engine/io/png.h"
#include "engine/io/safe_path.h"
#include "engine/io/safetensors.h"

namespace vkf::graph {
namespace {

namespace fs = std::filesystem;

// Per-element costs, in elements of the compute dtype, from the SD family's layer widths (SD1/2/XL share
// the VAE and the 320-channel top UNet level). UNet: at each latent position the top level keeps 3 skip
// activations of 320 channels, the attention block's q/k/v/out (4 x 320), GEGLU's 2560 feed-forward
// channels and resnet temporaries (~4 x 320): ~6400 values; lower levels add less than a third more at a
// quarter the positions each, rounded into the figure. VAE decode at full resolution: the 256-channel
// upsampled input of the last up block plus three 128-channel buffers (input, output, GroupNorm
// temporary): 640 values per pixel. Latents (4 channels) and images (RGB) are always f32.
constexpr double kUnetPerLatentPos = 6400;
constexpr double kVaePerPixel = 640;
constexpr double kLatentBytesPerPos = 4 * 4;
constexpr double kImageBytesPerPixel = 3 * 4;
constexpr int kLatentFactor = 8;

uint64_t to_bytes(double b) {  // saturating: a hostile header must not wrap the plan into "fits"
  return b >= 1.8e19 ? std::numeric_limits<uint64_t>::max() : uint64_t(std::max(0.0, b));
}

// The size of a LATENT or IMAGE value as it flows through the graph.
struct Shape {
  bool latent = true;
  double width = 0, height = 0, batch = 0;  // in image pixels (a latent's are 8x its own)
  std::string from;                         // "node 5, EmptyLatentImage 4096x4096 batch 4": where it was set
  double pixels() const { return width * height * batch; }
  double latent_positions() const {
    return std::floor(width / kLatentFactor) * std::floor(height / kLatentFactor) * batch;
  }
  double value_bytes() const { return latent ? latent_positions() * kLatentBytesPerPos : pixels() * kImageBytesPerPixel; }
  std::string size_text() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.0fx%.0f batch %.0f", width, height, batch);
    return buf;
  }
};

// A number input: its literal, or the value of the PrimitiveInt/PrimitiveFloat chain it links to.
std::optional<double> number_input(const Graph& g, const Node& node, const char* name) {
  const Node* n = &node;
  std::string key = name;
  for (int hop = 0; hop < 64 && n; ++hop) {
    const auto& in = n->inputs();
    auto it = in.find(key);
    if (it == in.end()) return std::nullopt;
    if (it->is_number()) {
      double v = it->get<double>();
      return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
    }
    auto l = is_link(*it) ? parse_link(*it) : std::nullopt;
    if (!l) return std::nullopt;
    n = g.find(l->node);
    if (!n || (n->class_type != "PrimitiveInt" && n->class_type != "PrimitiveFloat")) return std::nullopt;
    key = "value";
  }
  return std::nullopt;
}

double size_input(const Graph& g, const Node& n, const char* name, double fallback, double lo, double hi) {
  auto v = number_input(g, n, name);
  return v && *v >= lo && *v <= hi ? std::floor(*v) : fallback;
}

const Node* linked(const Graph& g, const Node& n, const char* name) {
  auto it = n.inputs().find(name);
  if (it == n.inputs().end()) return nullptr;
  auto l = is_link(*it) ? parse_link(*it) : std::nullopt;
  return l ? g.find(l->node) : nullptr;
}

// Device bytes of a model file: its tensors' elements at the compute dtype (integer tensors as stored),
// from the safetensors header; the file size when the header cannot be read (loading will say why).
uint64_t model_bytes(const fs::path& p, unsigned compute_bytes) {
  try {
    auto st = io::SafeTensors::open(p);
    double b = 0;
    for (const auto& t : st.tensors()) {
      bool fp = t.dtype == io::StDType::F64 || t.dtype == io::StDType::F32 || t.dtype == io::StDType::F16 ||
                t.dtype == io::StDType::BF16;
      b += fp ? double(t.numel()) * compute_bytes : double(t.nbytes());
    }
    return to_bytes(b);
  } catch (const std::exception&) {
    std::error_code ec;
    uint64_t n = fs::file_size(p, ec);
    return ec ? 0 : n;
  }
}

std::optional<fs::path> file_input(const Node& n, const char* name, const fs::path& dir, bool allow_absolute) {
  auto it = n.inputs().find(name);
  if (it == n.inputs().end() || !it->is_string()) return std::nullopt;
  try {
    return io::resolve_inside(dir, it->get<std::string>(), io::PathAccess::Read, allow_absolute);
  } catch (const std::exception&) {
    return std::nullopt;  // validation reports it
  }
}

bool is_sampler(const std::string& c) {
  return c == "KSampler" || c == "KSamplerAdvanced" || c == "SamplerCustomAdvanced" || c == "SamplerCustom" ||
         c == "DDIMInversion";
}

// How many UNet batches a sampler evaluates per step: 2 with CFG, 1 when cfg is 1 (ComfyUI skips the
// negative then) or the guider has no negative.
int cfg_batches(const Graph& g, const Node& n) {
  const std::string& c = n.class_type;
  if (c == "DDIMInversion") return 1;
  const Node* cfg_node = &n;
  if (c == "SamplerCustomAdvanced") {
    cfg_node = linked(g, n, "guider");
    if (!cfg_node) return 2;
    if (cfg_node->class_type == "BasicGuider") return 1;
    if (cfg_node->class_type != "CFGGuider") return 2;
  }
  auto cfg = number_input(g, *cfg_node, "cfg");
  return cfg && *cfg == 1.0 ? 1 : 2;
}

// The LATENT/IMAGE size node `n` outputs, from the sizes its inputs carry (`out` so far).
std::optional<Shape> output_shape(const Graph& g, const Node& n, const Paths& paths,
                                  const std::map<std::string, Shape>& out) {
  const std::string& c = n.class_type;
  const std::string self = "node " + n.id + ", " + c + " ";
  if (c == "EmptyLatentImage") {
    Shape s{true, size_input(g, n, "width", 512, 16, 16384), size_input(g, n, "height", 512, 16, 16384),
            size_input(g, n, "batch_size", 1, 1, 4096), ""};
    s.width = std::floor(s.width / kLatentFactor) * kLatentFactor;
    s.height = std::floor(s.height / kLatentFactor) * kLatentFactor;
    s.from = self + s.size_text();
    return s;
  }
  if (c == "LoadImage") {
    auto f = file_input(n, "image", paths.input_dir, paths.allow_absolute_inputs);
    auto info = f ? io::image_info(*f) : std::nullopt;
    if (!info) return std::nullopt;
    Shape s{false, double(info->width), double(info->height), 1, ""};
    s.from = self + s.size_text();
    return s;
  }
  // Every other node passes on the largest size among its linked inputs.
  std::optional<Shape> in;
  for (auto& [k, v] : n.inputs().items()) {
    auto l = is_link(v) ? parse_link(v) : std::nullopt;
    auto it = l ? out.find(l->node) : out.end();
    if (it != out.end() && (!in || it->second.pixels() > in->pixels())) in = it->second;
  }
  if (!in) return std::nullopt;
  if (c == "VAEDecode" || c == "VAEDecodeTiled") in->latent = false;
  if (c == "VAEEncode" || c == "VAEEncodeTiled") {  // cropped to whole latent positions
    in->latent = true;
    in->width = std::floor(in->width / kLatentFactor) * kLatentFactor;
    in->height = std::floor(in->height / kLatentFactor) * kLatentFactor;
  }
  if (c == "ImageScale") {  // a zero side keeps the aspect ratio (ComfyUI)
    double w = size_input(g, n, "width", 512, 0, 16384), h = size_input(g, n, "height", 512, 0, 16384);
    if (w == 0 && h == 0) return in;
    if (w == 0) w = std::max(1.0, std::round(in->width * h / std::max(1.0, in->height)));
    if (h == 0) h = std::max(1.0, std::round(in->height * w / std::max(1.0, in->width)));
    in->width = w, in->height = h;
    in->from = self + in->size_text();
  }
  return in;
}

// The working set of node `n` at the size `s` that reaches it, or nothing for light nodes.
std::optional<MemoryPlanItem> working_set(const Graph& g, const Node& n, const Shape& s, const Shape* input,
                                          unsigned cb) {
  const std::string& c = n.class_type;
  const std::string at = " at " + s.size_text() + " (from " + s.from + ")";
  if (c == "EmptyLatentImage") return MemoryPlanItem{n.id, c, "latent" + at, to_bytes(s.value_bytes())};
  if (c == "LoadImage") return MemoryPlanItem{n.id, c, "decoded image and mask" + at, to_bytes(s.pixels() * 16)};
  if (c == "ImageScale")
    return MemoryPlanItem{n.id, c, "scaled image" + at, to_bytes(s.value_bytes() + (input ? input->value_bytes() : 0))};
  if (is_sampler(c)) {
    const int k = cfg_batches(g, n);
    const double pos = s.latent_positions();
    return MemoryPlanItem{n.id, c,
                          std::string("UNet working set") + (k == 2 ? ", batch doubled for CFG," : "") + at,
                          to_bytes(pos * k * kUnetPerLatentPos * cb + 4 * pos * kLatentBytesPerPos)};
  }
  const double image = s.pixels() * kImageBytesPerPixel;
  if (c == "VAEDecode" || c == "VAEEncode")
    return MemoryPlanItem{n.id, c, "full-image VAE working set" + at, to_bytes(s.pixels() * kVaePerPixel * cb + image)};
  if (c == "VAEDecodeTiled" || c == "VAEEncodeTiled") {
    const double t = size_input(g, n, "tile_size", 512, 64, 16384);
    const double tile = std::min(s.width, t) * std::min(s.height, t) * s.batch;
    return MemoryPlanItem{n.id, c, "tiled VAE working set" + at, to_bytes(tile * kVaePerPixel * cb + 2 * image)};
  }
  return std::nullopt;
}

// Whether the node outputs a LATENT or IMAGE of its own (an unknown class is assumed to).
bool makes_value(const Node& n) {
  const NodeDef* def = Registry::instance().find(n.class_type);
  if (!def) return true;
  return std::any_of(def->outputs().begin(), def->outputs().end(),
                     [](const OutputSpec& o) { return o.type == "LATENT" || o.type == "IMAGE"; });
}

}  // namespace

const MemoryPlanItem* MemoryPlan::largest() const {
  auto it = std::max_element(items.begin(), items.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  return it == items.end() ? nullptr : &*it;
}

uint64_t MemoryPlan::peak() const {
  const MemoryPlanItem* l = largest();
  return to_bytes(double(weights) + double(values) + double(l ? l->bytes : 0));
}

MemoryPlan estimate_memory(const Graph& g, const Paths& paths, const PlanOptions& opt) {
  MemoryPlan plan;
  const unsigned cb = opt.compute_bytes ? opt.compute_bytes : 4;
  std::set<std::string> all;
  for (const Node& n : g.nodes()) all.insert(n.id);
  std::vector<std::string> order;
  try {
    order = topo_order(g, all, Registry::instance());
  } catch (const std::exception&) {
    return plan;  // a cycle: validation reports it
  }
  std::set<fs::path> models;  // each file once, however many loaders name it
  std::map<std::string, Shape> out;
  double values = 0;
  for (const std::string& id : order) {
    const Node& n = *g.find(id);
    const std::string& c = n.class_type;
    std::optional<fs::path> model;
    if (c == "CheckpointLoaderSimple")
      model = file_input(n, "ckpt_name", paths.models_dir / "checkpoints", paths.allow_absolute_inputs);
    if (c == "VAELoader") model = file_input(n, "vae_name", paths.models_dir / "vae", paths.allow_absolute_inputs);
    std::error_code ec;
    if (model && models.insert(fs::weakly_canonical(*model, ec)).second) plan.weights += model_bytes(*model, cb);

    auto s = output_shape(g, n, paths, out);
    if (!s) continue;
    // The input size (before a VAE or ImageScale changed it) is what the node works on.
    const Shape* input = nullptr;
    for (auto& [k, v] : n.inputs().items()) {
      auto l = is_link(v) ? parse_link(v) : std::nullopt;
      auto it = l ? out.find(l->node) : out.end();
      if (it != out.end() && (!input || it->second.pixels() > input->pixels())) input = &it->second;
    }
    const bool encode = c == "VAEEncode" || c == "VAEEncodeTiled";
    if (auto item = working_set(g, n, encode && input ? *input : *s, input, cb)) plan.items.push_back(std::move(*item));
    if (makes_value(n)) values += s->value_bytes();
    out[id] = std::move(*s);
  }
  plan.values = to_bytes(values);
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
          l->what + ", plus " + format_bytes(plan.weights) + " of model weights and " + format_bytes(plan.values) +
          " of latents and images: " + format_bytes(plan.peak()) + " planned, more than the device's " +
          format_bytes(heap_bytes) + "; ";
    msg += l->class_type == "VAEDecode" || l->class_type == "VAEEncode"
               ? "decode with VAEDecodeTiled (encode with VAEEncodeTiled), or use a smaller batch_size or image size"
               : "use a smaller batch_size or image size (and VAEDecodeTiled to decode)";
  } else {
    msg = "the model weights alone (" + format_bytes(plan.weights) + ") exceed the device's " + format_bytes(heap_bytes);
  }
  return msg + " (--skip-memory-check runs it anyway)";
}

}  // namespace vkf::graph
