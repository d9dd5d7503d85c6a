// GPU copies of a checkpoint's tensors, uploaded once at load in the compute dtype and looked up by
// their checkpoint names (the model tree is the key tree).
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

// A view of Weights under a dotted prefix: w.sub("input_blocks.1.0")["in_layers.2.weight"].
class Scope {
 public:
  Scope(const Weights& w, std::string prefix) : w_(&w), prefix_(std::move(prefix)) {}
  Scope sub(std::string_view child) const { return Scope(*w_, prefix_ + std::string(child) + "."); }
  const Tensor& operator[](std::string_view name) const { return w_->get(prefix_ + std::string(name)); }
  bool has(std::string_view name) const { return w_->has(prefix_ + std::string(name)); }
  const std::string& prefix() const { return prefix_; }

 private:
  const Weights* w_;
  std::string prefix_;
};

}  // namespace vkf::models
