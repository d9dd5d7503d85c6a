// Execution events, named as ComfyUI's websocket messages, delivered to a callback during a run:
//   execution_start, execution_cached(every needed node in the cache), then per node executing(node)
//   [progress(node, v, max)...] [executed(node, ui output) for nodes with UI results], and finally one of
//   execution_success, execution_error(node, class, message) or execution_interrupted(node, class). Cached
//   output nodes get `executed` (their cached UI) right after execution_cached. Unlike ComfyUI there is no
//   closing executing(null): the terminal event says the run is over.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampling/latent_preview.h"

namespace vkf::graph {

enum class EventType {
  ExecutionStart,
  ExecutionCached,
  Executing,
  Progress,
  Executed,
  ExecutionError,
  ExecutionSuccess,
  ExecutionInterrupted,
};

struct Event {
  explicit Event(EventType t = EventType::ExecutionStart) : type(t) {}
  EventType type;
  std::string node, class_type;    // the node concerned (empty for run-level events)
  std::vector<std::string> nodes;  // cached: the cached nodes; error/interrupted: nodes executed so far
  uint64_t value = 0, max = 0;     // progress
  nlohmann::json output;           // executed: the node's UI results ({"images": [...], "text": [...]})
  std::string message;             // error
  size_t index = 0, total = 0;     // 1-based position of `node` among the nodes executing in this run
  // progress of a sampler step, only when RunEnv::previews: the step's latent preview (else null)
  std::shared_ptr<const sampling::PreviewImage> preview;
};

using EventCallback = std::function<void(const Event&)>;

const char* event_name(EventType t);  // "execution_start", "executing", ...
nlohmann::json to_json(const Event& e);  // {"type": name, "data": {...}} as ComfyUI sends it

}  // namespace vkf::graph
