// Small helpers shared by the routes and the listener: request targets split into a path and decoded
// query parameters, JSON / text responses, multipart/form-data bodies (the HTTP framing itself is Beast's).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace vkf::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Target {
  std::string path;                          // percent-decoded
  std::map<std::string, std::string> query;  // decoded; the last of repeated keys wins
  bool ok = true;                            // false on a malformed escape
};
Target parse_target(std::string_view target);

Response json_response(const Request& req, http::status st, const nlohmann::json& body);
Response text_response(const Request& req, http::status st, std::string body, std::string_view type = "text/plain");

struct FormPart {
  std::string name, filename, content_type, data;
};
// Parts of a multipart/form-data body; nullopt when the Content-Type has no boundary or the body is
// malformed.
std::optional<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body);

}  // namespace vkf::server
