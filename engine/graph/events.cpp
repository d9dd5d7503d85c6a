#include "engine/graph/events.h"

namespace vkf::graph {

const char* event_name(EventType t) {
  switch (t) {
    case EventType::ExecutionStart: return "execution_start";
    case EventType::ExecutionCached: return "execution_cached";
    case EventType::Executing: return "executing";
    case EventType::Progress: return "progress";
    case EventType::Executed: return "executed";
    case EventType::ExecutionError: return "execution_error";
    case EventType::ExecutionSuccess: return "execution_success";
    case EventType::ExecutionInterrupted: return "execution_interrupted";
  }
  return "unknown";
}

nlohmann::json to_json(const Event& e) {
  nlohmann::json d = nlohmann::json::object();
  switch (e.type) {
    case EventType::ExecutionStart:
    case EventType::ExecutionSuccess: break;
    case EventType::ExecutionCached: d["nodes"] = e.nodes; break;
    case EventType::Executing: d["node"] = e.node; break;
    case EventType::Progress: d = {{"node", e.node}, {"value", e.value}, {"max", e.max}}; break;
    case EventType::Executed: d = {{"node", e.node}, {"display_node", e.node}, {"output", e.output}}; break;
    case EventType::ExecutionError:
      d = {{"node_id", e.node}, {"node_type", e.class_type}, {"exception_message", e.message}, {"executed", e.nodes}};
      break;
    case EventType::ExecutionInterrupted:
      d = {{"node_id", e.node}, {"node_type", e.class_type}, {"executed", e.nodes}};
      break;
  }
  return {{"type", event_name(e.type)}, {"data", d}};
}

}  // namespace vkf::graph
