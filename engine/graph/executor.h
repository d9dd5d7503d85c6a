// The executor: validates a graph, then runs only the output nodes and their ancestors, dependencies
// first, reusing cached outputs from earlier runs when a node's signature is unchanged. Reports events
// to RunEnv::on_event and honours RunEnv::cancel between nodes (nodes check it too, via NodeContext).
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/graph/cache.h"
#include "engine/graph/graph.h"
#include "engine/graph/node_context.h"
#include "engine/graph/registry.h"
#include "engine/graph/validate.h"

namespace vkf::graph {

enum class RunStatus { Success, Invalid, Error, Interrupted };

// What one node of a run cost and made (the editor's per-node overlay): wall time of its execute (0 when
// served from the cache), the bytes its outputs report (Value::bytes) and, per output, its graph type
// and summary (Value::summary: tensor shape and dtype). With RunEnv::node_profile and a GPU context
// already started: the GPU time of the command buffers it submitted (timestamps) and the device pool's
// high-water mark while it ran (every live buffer, weights included).
struct NodeStats {
  bool cached = false;
  double ms = 0;
  std::optional<double> gpu_ms;
  std::optional<uint64_t> peak_bytes;
  size_t bytes = 0;
  std::vector<std::string> output_types, output_summaries;
};

// Which nodes a run of a graph would execute and which it would take from the cache, as of now.
struct RunPlan {
  ValidationResult validation;       // not ok: nothing is planned
  std::vector<std::string> to_run;   // in execution order
  std::vector<std::string> cached;   // id order
  std::string error;                 // an is_changed check threw (naming the node); nothing is planned
  bool ok() const { return validation.ok() && error.empty(); }
};

struct RunResult {
  RunStatus status = RunStatus::Success;
  ValidationResult validation;                  // its errors when status == Invalid
  std::string error_node, error_class, error_message;  // Error / Interrupted: the node concerned
  std::vector<std::string> executed;            // nodes run this time, in execution order
  std::vector<std::string> cached;              // nodes served from the cache (id order)
  std::map<std::string, nlohmann::json> ui;     // UI results per node (executed and cached)
  std::map<std::string, Outputs> outputs;       // every node's outputs, only with keep_outputs(true)
  std::map<std::string, NodeStats> stats;       // executed nodes and every needed node in the cache
  bool ok() const { return status == RunStatus::Success; }
};

class Executor {
 public:
  explicit Executor(CacheOptions cache = {}, const Registry& reg = Registry::instance());

  // Never throws for graph or node problems: they come back in the result (and as events).
  RunResult run(const Graph& g, const RunEnv& env);

  // What run() would do with this graph now, without running anything or touching the cache's order.
  // Not-cacheable nodes always run. is_changed checks (e.g. LoadImage hashing its file) are evaluated.
  RunPlan plan(const Graph& g, const RunEnv& env);

  OutputCache& cache() { return cache_; }
  void keep_outputs(bool v) { keep_outputs_ = v; }  // keep all outputs in RunResult (tests, previews)

 private:
  std::string signature(const Graph& g, const Node& n, const std::map<std::string, std::string>& sigs,
                        const RunEnv& env, const nlohmann::json& prompt, const nlohmann::json& extra);
  // Signatures of the outputs' ancestors; "" on success, else the failing node's id (message in `err`).
  std::string signatures(const Graph& g, const std::vector<std::string>& outputs, const RunEnv& env,
                         std::map<std::string, std::string>& sigs, std::string& err);
  // Walks up from the outputs, stopping at nodes whose signature is cached (`peek`: without marking use).
  std::set<std::string> to_run(const Graph& g, const std::vector<std::string>& outputs,
                               const std::map<std::string, std::string>& sigs, bool peek,
                               std::map<std::string, const CacheEntry*>& hits);
  // Every needed node whose outputs are in the cache, served or not (ComfyUI's execution_cached lists them
  // all, also the ancestors of a served node that the walk never reached). Id order.
  std::vector<std::string> cached_nodes(const Graph& g, const std::map<std::string, std::string>& sigs,
                                        const std::set<std::string>& to_run) const;
  Inputs resolve_inputs(const Node& n, const NodeDef& def, const std::map<std::string, Outputs>& store) const;

  const Registry& reg_;
  OutputCache cache_;
  bool keep_outputs_ = false;
  uint64_t uncacheable_runs_ = 0;  // makes a not-cacheable node's signature unique per run
};

// Checks a node's returned values against its declared outputs; throws GraphError naming the output.
void check_outputs(const NodeDef& def, const Outputs& outs);

}  // namespace vkf::graph
