// The executor: validates a graph, then runs only the output nodes and their ancestors, dependencies
// first, reusing cached outputs from earlier runs when a node's signature is unchanged. Reports events
// to RunEnv::on_event and honours RunEnv::cancel between nodes (nodes check it too, via NodeContext).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/graph/cache.h"
#include "engine/graph/graph.h"
#include "engine/graph/node_context.h"
#include "engine/graph/registry.h"
#include "engine/graph/validate.h"

namespace vkf::graph {

enum class RunStatus { Success, Invalid, Error, Interrupted };

struct RunResult {
  RunStatus status = RunStatus::Success;
  ValidationResult validation;                  // its errors when status == Invalid
  std::string error_node, error_class, error_message;  // Error / Interrupted: the node concerned
  std::vector<std::string> executed;            // nodes run this time, in execution order
  std::vector<std::string> cached;              // nodes served from the cache (id order)
  std::map<std::string, nlohmann::json> ui;     // UI results per node (executed and cached)
  std::map<std::string, Outputs> outputs;       // every node's outputs, only with keep_outputs(true)
  bool ok() const { return status == RunStatus::Success; }
};

class Executor {
 public:
  explicit Executor(CacheOptions cache = {}, const Registry& reg = Registry::instance());

  // Never throws for graph or node problems: they come back in the result (and as events).
  RunResult run(const Graph& g, const RunEnv& env);

  OutputCache& cache() { return cache_; }
  void keep_outputs(bool v) { keep_outputs_ = v; }  // keep all outputs in RunResult (tests, previews)

 private:
  std::string signature(const Graph& g, const Node& n, const std::map<std::string, std::string>& sigs,
                        const RunEnv& env, const nlohmann::json& prompt, const nlohmann::json& extra);
  Inputs resolve_inputs(const Node& n, const NodeDef& def, const std::map<std::string, Outputs>& store) const;

  const Registry& reg_;
  OutputCache cache_;
  bool keep_outputs_ = false;
  uint64_t uncacheable_runs_ = 0;  // makes a not-cacheable node's signature unique per run
};

// Checks a node's returned values against its declared outputs; throws GraphError naming the output.
void check_outputs(const NodeDef& def, const Outputs& outs);

}  // namespace vkf::graph
