#include "server/request_check.h"

#include "engine/graph/graph.h"
#include "engine/graph/validate.h"
#include "engine/io/json_limits.h"

namespace vkf::server {
using nlohmann::json;

json error_body(const std::string& type, const std::string& message, const std::string& details) {
  return {{"error", {{"type", type}, {"message", message}, {"details", details.empty() ? message : details},
                     {"extra_info", json::object()}}},
          {"node_errors", json::object()}};
}

std::optional<json> parse_json_body(const Request& req) {
  if (req.body.empty()) return json::object();
  return io::parse_json_limited(req.body);  // a deep body would overflow the stack when copied or dumped
}

std::variant<PromptRequest, Response> check_prompt_request(const Request& req, const graph::Registry& reg,
                                                           const graph::Paths& paths) {
  auto body = parse_json_body(req);
  if (!body || !body->is_object()) return json_response(400, error_body("invalid_prompt", "Invalid JSON body"));
  if (!body->contains("prompt")) return json_response(400, error_body("no_prompt", "No prompt provided"));
  const json& prompt = (*body)["prompt"];
  if (!prompt.is_object())
    return json_response(400, error_body("invalid_prompt", "Invalid prompt", "prompt must be an object of nodes"));
  graph::ValidationResult v;
  try {
    auto g = graph::Graph::from_json(prompt);
    v = graph::validate(g, reg, paths);
  } catch (const std::exception& e) {
    return json_response(400, error_body("invalid_prompt", "Invalid prompt", e.what()));
  }
  if (!v.ok()) return json_response(400, v.to_json());
  return PromptRequest{std::move(*body), std::move(v.outputs)};
}

}  // namespace vkf::server
