#include "engine/graph/registry.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "engine/graph/errors.h"

namespace vkf::graph {

Registry& Registry::instance() {
  static Registry r;
  return r;
}

void Registry::add(NodeDef def) {
  if (!def.execute_fn()) throw std::logic_error("node class " + def.class_type() + " has no execute() function");
  std::unique_lock lock(mu_);
  if (defs_.count(def.class_type())) throw std::logic_error("node class " + def.class_type() + " registered twice");
  std::string name = def.class_type();
  defs_.emplace(std::move(name), std::make_unique<const NodeDef>(std::move(def)));
}

const NodeDef* Registry::find(const std::string& class_type) const {
  std::shared_lock lock(mu_);
  auto it = defs_.find(class_type);
  return it == defs_.end() ? nullptr : it->second.get();
}

bool Registry::retire(const std::string& class_type) {
  std::unique_lock lock(mu_);
  auto it = defs_.find(class_type);
  if (it == defs_.end()) return false;
  retired_.push_back(std::move(it->second));
  defs_.erase(it);
  return true;
}

const NodeDef& Registry::get(const std::string& class_type) const {
  if (auto* d = find(class_type)) return *d;
  throw GraphError("unknown node class '" + class_type + "'");
}

size_t Registry::size() const {
  std::shared_lock lock(mu_);
  return defs_.size();
}

std::vector<std::string> Registry::names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> n;
  for (auto& [k, _] : defs_) n.push_back(k);
  return n;
}

nlohmann::json Registry::object_info(const Paths& paths) const {
  std::shared_lock lock(mu_);
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, d] : defs_) j[k] = d->object_info(paths);
  return j;
}

NodeRegistrar::NodeRegistrar(NodeDef def) {
  try {
    Registry::instance().add(std::move(def));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkflow: bad node declaration: %s\n", e.what());
    std::abort();
  }
}

nlohmann::json object_info(const Paths& paths) { return Registry::instance().object_info(paths); }

}  // namespace vkf::graph
