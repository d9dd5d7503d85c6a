// libFuzzer: an HTTP request as the server sees it after framing ("METHOD target\r\n", "name: value"
// header lines, a blank line, the body; Beast does the real framing in listener.cpp): the target split
// and percent-decoded, multipart/form-data bodies (/upload/image), JSON bodies, and POST /prompt through
// validation (server/request_check.h). Every outcome must be a value or a 4xx response, never a crash.
#include <cctype>
#include <cstdint>
#include <string_view>
#include <variant>

#include "server/http_util.h"
#include "server/request_check.h"
#include "tests/fuzz/fuzz_common.h"

namespace {
std::string_view take_line(std::string_view& s) {
  size_t eol = s.find('\n');
  std::string_view line = s.substr(0, eol);
  s.remove_prefix(eol == std::string_view::npos ? s.size() : eol + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

vkf::server::Request frame(std::string_view s) {
  vkf::server::Request r;
  std::string_view first = take_line(s);
  size_t sp = first.find(' ');
  r.method = std::string(first.substr(0, sp));
  if (sp != std::string_view::npos) r.target = std::string(first.substr(sp + 1));
  while (!s.empty()) {
    std::string_view line = take_line(s);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers[name] = std::string(value);
  }
  r.body = std::string(s);
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkf;
  static const graph::Paths paths = fuzz::scratch_paths();
  const server::Request req = frame({reinterpret_cast<const char*>(data), size});
  const server::Target t = server::parse_target(req.target);
  for (const auto& [k, v] : t.query) (void)nlohmann::json({{k, v}}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string type = req.header("content-type");
  if (type.find("multipart/form-data") != std::string::npos) {
    if (auto parts = server::parse_multipart(type, req.body))
      for (const auto& p : *parts)
        if (p.name.size() + p.filename.size() + p.data.size() > req.body.size()) __builtin_trap();
  }
  if (req.method == "POST" && t.path == "/prompt") {
    auto r = server::check_prompt_request(req, fuzz::registry(), paths);
    if (auto* resp = std::get_if<server::Response>(&r)) {
      if (resp->status != 400) __builtin_trap();
    } else {
      (void)std::get<server::PromptRequest>(r).prompt().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  } else if (auto body = server::parse_json_body(req)) {
    (void)body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
