// The process-wide node registry, filled by static NodeRegistrar objects in nodes/*.cpp (and tests), and at
// run time when a plugin registers a sampler with parameters (nodes/plugin_samplers.cpp). Thread-safe: add()
// takes a writer lock, lookups a reader lock; entries live at stable addresses and are never freed (a
// retired class leaves the lookups but not memory), so a NodeDef* from find() stays valid while other
// threads add or retire.
#pragma once
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/schema.h"

namespace vkf::graph {

class Registry {
 public:
  static Registry& instance();  // the one the static registrars fill
  Registry() = default;
  Registry(Registry&& o) noexcept : defs_(std::move(o.defs_)) {}  // a registry being built, not yet shared
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  void add(NodeDef def);  // throws std::logic_error on a duplicate class or a def without execute()
  const NodeDef* find(const std::string& class_type) const;  // nullptr when unknown
  // Takes a class out of find/names/object_info (the node of a plugin sampler whose registration was
  // rolled back); false when unknown. Its NodeDef stays allocated, so earlier pointers stay valid.
  bool retire(const std::string& class_type);
  const NodeDef& get(const std::string& class_type) const;   // throws GraphError when unknown
  std::vector<std::string> names() const;                    // sorted
  size_t size() const;

  // ComfyUI's /object_info: {"<class>": {...}, ...}; file-list inputs list the files under `paths`.
  nlohmann::json object_info(const Paths& paths = {}) const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<const NodeDef>> defs_;  // stable addresses for find()
  std::vector<std::unique_ptr<const NodeDef>> retired_;          // kept alive, no longer listed
};

// `static NodeRegistrar reg(NodeDef("X")...);` — registers at static-init time; a broken declaration
// prints its reason and aborts (a programming error, found on the first start).
struct NodeRegistrar {
  explicit NodeRegistrar(NodeDef def);
};

// Registry::instance().object_info(paths)
nlohmann::json object_info(const Paths& paths = {});

}  // namespace vkf::graph
