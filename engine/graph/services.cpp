#include "engine/graph/services.h"

#include "engine/vk/context.h"

namespace vkf::graph {

// The GPU service is the Vulkan context (created on first use, so graphs of primitives never start Vulkan).
// Nodes fetch it with ctx.service<vkf::vk::Context>(kGpuService).
std::shared_ptr<void> make_gpu_service(int device) {
  vk::ContextOptions opt;
  opt.device = device;
  return std::make_shared<vk::Context>(opt);
}

void Services::set(const std::string& name, std::shared_ptr<void> obj) {
  std::lock_guard lock(mu_);
  objs_[name] = std::move(obj);
}

void Services::set_factory(const std::string& name, Factory f) {
  std::lock_guard lock(mu_);
  objs_.erase(name);
  factories_[name] = std::move(f);
}

bool Services::has(const std::string& name) const {
  std::lock_guard lock(mu_);
  return objs_.count(name) || factories_.count(name);
}

std::shared_ptr<void> Services::find_raw(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = objs_.find(name);
  if (it != objs_.end()) return it->second;
  auto f = factories_.find(name);
  if (f == factories_.end()) return nullptr;
  auto obj = f->second();  // exceptions (no device, ...) propagate to the node that asked
  if (obj) objs_[name] = obj;
  return obj;
}

std::shared_ptr<void> Services::peek_raw(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = objs_.find(name);
  return it == objs_.end() ? nullptr : it->second;
}

std::shared_ptr<void> Services::get_raw(const std::string& name) {
  auto obj = find_raw(name);
  if (!obj) throw GraphError("service '" + name + "' is not available in this run");
  return obj;
}

}  // namespace vkf::graph
