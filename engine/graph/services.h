// Services: a small bag of shared, type-erased objects a run offers to nodes (the GPU context, a model
// cache, ...), each created lazily on first use so a graph of primitives never starts Vulkan.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/graph/errors.h"

namespace vkf::graph {

// Name under which the GPU context is offered (the lead's engine: a vkf::vk::Context).
inline constexpr const char* kGpuService = "gpu";
// Optional run settings for loaders (std::string values): `--weights f32|f16` and `--clip-vocab FILE`.
inline constexpr const char* kWeightsDtypeService = "weights_dtype";
inline constexpr const char* kClipVocabService = "clip_vocab";

// Creates the GPU service (a vk::Context) for `device` (-1: VKFLOW_DEVICE or the best one).
std::shared_ptr<void> make_gpu_service(int device);

class Services {
 public:
  using Factory = std::function<std::shared_ptr<void>()>;

  void set(const std::string& name, std::shared_ptr<void> obj);
  void set_factory(const std::string& name, Factory f);  // called once, on the first get()
  bool has(const std::string& name) const;                // present or creatable

  // The service, created on first use; throws GraphError naming it when absent or when its factory
  // yields nothing. T must be the type the service was created as.
  template <class T>
  T& get(const std::string& name) {
    return *static_cast<T*>(get_raw(name).get());
  }
  std::shared_ptr<void> get_raw(const std::string& name);
  std::shared_ptr<void> find_raw(const std::string& name);  // nullptr when absent; creates when it can
  std::shared_ptr<void> peek_raw(const std::string& name) const;  // only if already created

 private:
  mutable std::mutex mu_;  // lazy creation may race with an editor thread
  std::map<std::string, std::shared_ptr<void>> objs_;
  std::map<std::string, Factory> factories_;
};

}  // namespace vkf::graph
