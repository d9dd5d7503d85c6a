// The server's own request/response values and small helpers shared by the routes: request targets split
// into a path and decoded query parameters, JSON / text responses, multipart/form-data bodies. The HTTP
// framing itself is Beast's, confined to listener.cpp (Beast is slow to compile), which converts.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vkf::server {

struct Request {
  std::string method = "GET";                   // "GET", "POST", ...
  std::string target = "/";                     // as sent: path?query, still percent-encoded
  std::map<std::string, std::string> headers;   // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const;  // "" when absent
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // Released once the reply has been written (or its connection dropped): POST /prompt holds its
  // prompt's WebSocket messages back until then, so a client never sees a run's events before its id.
  std::shared_ptr<void> on_sent;
};

struct Target {
  std::string path;                          // percent-decoded
  std::map<std::string, std::string> query;  // decoded; the last of repeated keys wins
  bool ok = true;                            // false on a malformed escape
};
Target parse_target(std::string_view target);

// Percent-decodes a URL component ('+' is a space); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

Response json_response(int status, const nlohmann::json& body);
Response text_response(int status, std::string body, std::string type = "text/plain");

struct FormPart {
  std::string name, filename, content_type, data;
};
// Parts of a multipart/form-data body; nullopt when the Content-Type has no boundary or the body is
// malformed.
std::optional<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body);

}  // namespace vkf::server
