// What a node's execute function sees: its resolved Inputs, and a NodeContext with its identity, the
// run's folders, services (GPU), the prompt (for metadata), progress/cancel and a UI-results sink.
#pragma once
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/graph/events.h"
#include "engine/graph/paths.h"
#include "engine/graph/services.h"
#include "engine/graph/value.h"

namespace vkf::graph {

// The resolved inputs of one node, in schema order. Accessors throw ValueTypeError naming the node and
// the input on a missing input or a type mismatch.
class Inputs {
 public:
  Inputs(std::string node_id, std::string class_type) : node_(std::move(node_id)), class_(std::move(class_type)) {}
  void set(const std::string& name, Value v) { values_[name] = std::move(v); }

  bool has(const std::string& name) const { return values_.count(name) != 0; }  // optional inputs may be absent
  const Value& value(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  uint64_t get_uint64(const std::string& name) const;  // seeds: full 0..2^64-1 range
  double get_float(const std::string& name) const;     // also accepts an INT
  const std::string& get_string(const std::string& name) const;  // STRING and COMBO
  bool get_bool(const std::string& name) const;
  template <class T>
  const T& get(const std::string& name) const {
    return *get_shared<T>(name);
  }
  template <class T>
  std::shared_ptr<const T> get_shared(const std::string& name) const {
    const Value& v = value(name);
    try {
      return v.get_shared<T>();
    } catch (const ValueTypeError& e) {
      throw error(name, e.what());
    }
  }
  const std::map<std::string, Value>& values() const { return values_; }
  const std::string& node_id() const { return node_; }
  const std::string& class_type() const { return class_; }

 private:
  ValueTypeError error(const std::string& name, const std::string& what) const;
  template <class F>
  decltype(auto) read(const std::string& name, F f) const;

  std::string node_, class_;
  std::map<std::string, Value> values_;
};

// What one run offers all its nodes; owned by whoever calls Executor::run.
// What a run refuses (io safety): checked before the work they guard.
struct Limits {
  uint64_t max_image_pixels = uint64_t(1) << 25;  // LoadImage: width*height from the header (33.5 MP)
  bool allow_nonfinite = false;                   // NaN/Inf latents or images fail the node unless set
};

struct RunEnv {
  Paths paths;
  std::shared_ptr<Services> services = std::make_shared<Services>();
  const std::atomic<bool>* cancel = nullptr;  // set to true (e.g. from SIGINT) to stop between nodes
  EventCallback on_event;                     // may be empty
  Limits limits;
  bool previews = false;                      // samplers attach a latent preview to their progress events
  // Per-node GPU time and peak device memory in RunResult::stats (one timestamp pair per submit, not per
  // dispatch); only once a node has started the GPU service.
  bool node_profile = true;
};

class NodeContext {
 public:
  NodeContext(std::string node_id, std::string class_type, const RunEnv& env, const nlohmann::json& prompt,
              const nlohmann::json& extra_pnginfo, size_t index = 0, size_t total = 0);

  const std::string& node_id() const { return node_; }
  const std::string& class_type() const { return class_; }
  const Paths& paths() const { return env_.paths; }
  const Limits& limits() const { return env_.limits; }
  const nlohmann::json& prompt() const { return prompt_; }                // ComfyUI's PNG "prompt" chunk
  const nlohmann::json& extra_pnginfo() const { return extra_pnginfo_; }  // null or {"workflow": ...}
  Services& services() const { return *env_.services; }
  template <class T>
  T& service(const std::string& name) const {  // e.g. service<vk::Context>(kGpuService)
    return services().get<T>(name);
  }

  void progress(uint64_t value, uint64_t max,  // emits a progress event (sampler steps)
                std::shared_ptr<const sampling::PreviewImage> preview = nullptr);
  bool wants_previews() const { return env_.previews && env_.on_event; }
  bool cancelled() const;
  void check_cancel() const;  // throws Interrupted when the run was cancelled

  // UI results, reported in the `executed` event and kept with cached outputs.
  nlohmann::json& ui() { return ui_; }
  void ui_append(const std::string& key, nlohmann::json item);
  // Records a written image as ComfyUI does: {"filename", "subfolder", "type"}; `type` is "output" or
  // "temp", the subfolder is relative to that folder (absolute when the file lies elsewhere).
  void add_image(const std::filesystem::path& file, const std::string& type = "output");

 private:
  std::string node_, class_;
  const RunEnv& env_;
  const nlohmann::json& prompt_;
  const nlohmann::json& extra_pnginfo_;
  size_t index_, total_;
  nlohmann::json ui_ = nlohmann::json::object();
};

// Full path of one entry of an `executed` event's "images" list, given the run's folders.
std::filesystem::path ui_image_path(const nlohmann::json& image, const Paths& paths);

}  // namespace vkf::graph
