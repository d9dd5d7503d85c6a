// JSON from outside (graph files, UI workflows, PNG text chunks, --set values, sidecar configs, vocabularies,
// safetensors headers, request bodies): nesting is limited at parse time, so a deeply nested document
// cannot overflow the stack later (dump(), copies and comparisons recurse).
#pragma once
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace vkf::io {

constexpr size_t kMaxJsonDepth = 512;  // ComfyUI workflows nest about 10 levels

// Byte offset of the first '[' or '{' (outside strings) that opens level max_depth+1, or npos. One pass,
// no recursion; malformed text is left to the parser.
size_t json_depth_violation(std::string_view text, size_t max_depth = kMaxJsonDepth);

// The parsed document, or nullopt with `why` ("invalid JSON at line L, column C: ..." or "JSON nested
// deeper than N levels at line L, column C").
std::optional<nlohmann::json> parse_json_limited(std::string_view text, std::string* why = nullptr,
                                                 size_t max_depth = kMaxJsonDepth);

struct JsonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// parse_json_limited, throwing JsonError("<source>: <why>").
nlohmann::json parse_json_checked(std::string_view text, const std::string& source, size_t max_depth = kMaxJsonDepth);

// Line and column (1-based) of byte `offset` in `text`.
std::pair<size_t, size_t> line_col(std::string_view text, size_t offset);

}  // namespace vkf::io
