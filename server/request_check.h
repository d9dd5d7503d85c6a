// The socket-free checks of a request body, shared by the routes and the HTTP fuzz target
// (tests/fuzz/fuzz_http.cpp): JSON bodies with the nesting limit, and POST /prompt up to validation.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/paths.h"
#include "engine/graph/registry.h"
#include "server/http_util.h"

namespace vkf::server {

// ComfyUI's error body {"error": {type, message, details, extra_info}, "node_errors": {}}.
nlohmann::json error_body(const std::string& type, const std::string& message, const std::string& details = "");

// The body as JSON ({} when empty); nullopt when malformed or nested deeper than io::kMaxJsonDepth.
std::optional<nlohmann::json> parse_json_body(const Request& req);

struct PromptRequest {
  nlohmann::json body;               // the whole /prompt body (an object)
  std::vector<std::string> outputs;  // output node ids of the validated prompt
  const nlohmann::json& prompt() const { return body.at("prompt"); }
};

// POST /prompt's body parsed and its prompt validated: the request, or the 400 response ComfyUI gives.
std::variant<PromptRequest, Response> check_prompt_request(const Request& req, const graph::Registry& reg,
                                                           const graph::Paths& paths);

}  // namespace vkf::server
