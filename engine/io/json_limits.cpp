#include "engine/io/json_limits.h"

#include <algorithm>

namespace vkf::io {

size_t json_depth_violation(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

std::pair<size_t, size_t> line_col(std::string_view text, size_t offset) {
  size_t line = 1, col = 1, end = std::min(offset, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return {line, col};
}

std::optional<nlohmann::json> parse_json_limited(std::string_view text, std::string* why, size_t max_depth) {
  auto fail = [&](const std::string& w) -> std::optional<nlohmann::json> {
    if (why) *why = w;
    return std::nullopt;
  };
  if (size_t at = json_depth_violation(text, max_depth); at != std::string_view::npos) {
    auto [l, c] = line_col(text, at);
    return fail("JSON nested deeper than " + std::to_string(max_depth) + " levels at line " + std::to_string(l) +
                ", column " + std::to_string(c));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    auto [l, c] = line_col(text, e.byte ? e.byte - 1 : 0);
    std::string what = e.what();
    auto colon = what.find(": ", what.find("parse error"));
    return fail("invalid JSON at line " + std::to_string(l) + ", column " + std::to_string(c) + ": " +
                (colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const nlohmann::json::exception& e) {  // out_of_range.406: a number beyond double ("1e309")
    std::string what = e.what();
    auto sp = what.find("] ");
    return fail("invalid JSON: " + (sp == std::string::npos ? what : what.substr(sp + 2)));
  }
}

}  // namespace vkf::io

namespace vkf::io {

nlohmann::json parse_json_checked(std::string_view text, const std::string& source, size_t max_depth) {
  std::string why;
  auto j = parse_json_limited(text, &why, max_depth);
  if (!j) throw JsonError(source + ": " + why);
  return std::move(*j);
}

}  // namespace vkf::io
