// GPU copies of a checkpoint's tensors, uploaded once at load in the compute dtype and found by their
// checkpoint names once, when a model binds its block tree (engine/models/unet_tree.h, vae_tree.h,
// sd_layout.h's text trees); nothing is looked up by name while an evaluation records.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "engine/tensor/tensor.h"

namespace vkf::io {
class SafeTensors;
}
namespace vkf::vk {
class Context;
}

namespace vkf::models {

class Weights {
 public:
  Weights(vk::Context& ctx, DType dtype) : ctx_(&ctx), dtype_(dtype) {}
  // Uploads every floating tensor whose name starts with `prefix` (prefix kept in the name).
  void load_prefix(const io::SafeTensors& st, std::string_view prefix);
  const Tensor& get(const std::string& name) const;  // throws naming the missing tensor
  bool has(const std::string& name) const { return t_.count(name) != 0; }
  DType dtype() const { return dtype_; }
  vk::Context& context() const { return *ctx_; }
  uint64_t bytes() const;

 private:
  vk::Context* ctx_;
  DType dtype_;
  std::map<std::string, Tensor> t_;
};

// One module's parameters, bound once at load (the model tree, engine/models/unet_tree.h): pointers into
// Weights, so recording an evaluation looks nothing up by name. Null where the module has no bias, and
// everywhere in a tree walked only to list names and shapes.
struct Bound {
  const Tensor* weight = nullptr;
  const Tensor* bias = nullptr;
};

}  // namespace vkf::models
