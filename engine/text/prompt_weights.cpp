#include "engine/text/prompt_weights.h"

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace vkf::text {
namespace {

// escape_important / unescape_important: "\(" and "\)" hide from the parenthesis parser.
constexpr std::string_view kEscClose = std::string_view("\0\1", 2), kEscOpen = std::string_view("\0\2", 2);

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// parse_parentheses: top-level pieces, each either plain text or "(...)" with balanced insides.
std::vector<std::string> parse_parentheses(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  long nesting = 0;
  for (char c : s) {
    if (c == '(') {
      if (nesting == 0) {
        if (!cur.empty()) out.push_back(cur);
        cur = "(";
      } else {
        cur += c;
      }
      ++nesting;
    } else if (c == ')') {
      --nesting;
      if (nesting == 0) {
        out.push_back(cur + ")");
        cur.clear();
      } else {
        cur += c;
      }
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Python's float() on a weight: surrounding whitespace allowed, the whole rest a decimal number. Infinite or
// NaN weights are refused (treated as text) so a prompt can never make the conditioning non-finite.
bool parse_weight(const std::string& s, double& out) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return false;
  const std::string t = s.substr(b, e - b + 1);
  if (t.find_first_of("xXpP") != std::string::npos) return false;  // strtod's hex floats are not Python's
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  // Finite as a float too: the weights are applied in f32, and 1e39 is finite only as a double.
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v) || std::fabs(v) > double(FLT_MAX)) return false;
  out = v;
  return true;
}

void token_weights(std::string_view s, double weight, int depth, std::vector<WeightedText>& out) {
  if (depth > kMaxEmphasisDepth)
    throw std::invalid_argument("prompt nests parentheses deeper than " + std::to_string(kMaxEmphasisDepth) + " levels");
  for (std::string x : parse_parentheses(s)) {
    if (x.size() >= 2 && x.front() == '(' && x.back() == ')') {
      x = x.substr(1, x.size() - 2);
      // Each level multiplies by 1.1 (ComfyUI); saturate at the largest float so nesting around a huge
      // weight cannot overflow the f32 weights (fuzz_tokenizer: ((x):3e38) made inf).
      double w = std::clamp(weight * 1.1, -double(FLT_MAX), double(FLT_MAX));
      const size_t colon = x.rfind(':');
      if (colon != std::string::npos && colon > 0 && parse_weight(x.substr(colon + 1), w)) x.resize(colon);
      token_weights(x, w, depth + 1, out);
    } else {
      out.push_back({std::move(x), weight});
    }
  }
}

struct Windows {
  size_t length;
  int32_t start, end, pad;
  TokenWindows w;
  void open() {
    w.ids.push_back({start});
    w.weights.push_back({1.0f});
  }
  void close() {
    w.ids.back().push_back(end);
    w.weights.back().push_back(1.0f);
    w.ids.back().resize(length, pad);
    w.weights.back().resize(length, 1.0f);
  }
  // ComfyUI's batching: max_length = length, max_word_length = 8.
  void add(const std::vector<int32_t>& group, float weight) {
    // (A short group that does not fit even a fresh window — only with tiny lengths — is split too, where
    // ComfyUI would loop for ever.)
    const bool large = group.size() >= 8 || group.size() + 2 > length;
    size_t at = 0;
    while (at < group.size()) {
      auto& ids = w.ids.back();
      auto& ws = w.weights.back();
      const size_t left = group.size() - at;
      if (left + ids.size() > length - 1) {
        const size_t room = length - ids.size() - 1;
        if (large) {
          ids.insert(ids.end(), group.begin() + long(at), group.begin() + long(at + room));
          ws.insert(ws.end(), room, weight);
          at += room;
        }
        close();
        open();
      } else {
        ids.insert(ids.end(), group.begin() + long(at), group.end());
        ws.insert(ws.end(), left, weight);
        at = group.size();
      }
    }
  }
};

}  // namespace

std::vector<WeightedText> parse_prompt_weights(std::string_view prompt) {
  std::string s = replace_all(std::string(prompt), "\\)", kEscClose);
  s = replace_all(std::move(s), "\\(", kEscOpen);
  std::vector<WeightedText> out;
  token_weights(s, 1.0, 0, out);
  for (auto& seg : out) seg.text = replace_all(replace_all(std::move(seg.text), kEscClose, ")"), kEscOpen, "(");
  return out;
}

bool TokenWindows::weighted() const {
  for (auto& ws : weights)
    for (float x : ws)
      if (x != 1.0f) return true;
  return false;
}

TokenWindows tokenize_weighted(const ClipTokenizer& tok, std::string_view prompt, size_t length, int32_t pad_id) {
  if (length < 3) throw std::invalid_argument("token windows need a length of at least 3");
  Windows b{length, tok.start_id(), tok.end_id(), pad_id, {}};
  b.open();
  for (const auto& seg : parse_prompt_weights(prompt)) {
    if (seg.text.empty()) continue;
    const auto ids = tok.encode(seg.text);
    b.add(std::vector<int32_t>(ids.begin() + 1, ids.end() - 1), float(seg.weight));
  }
  b.close();
  return std::move(b.w);
}

TokenWindows windows_from_ids(const std::vector<int32_t>& tokens, size_t length, int32_t pad_id) {
  if (tokens.size() < 2) throw std::invalid_argument("prompt tokens lack the start / end ids");
  if (length < 3) throw std::invalid_argument("token windows need a length of at least 3");
  Windows b{length, tokens.front(), tokens.back(), pad_id, {}};
  b.open();
  b.add(std::vector<int32_t>(tokens.begin() + 1, tokens.end() - 1), 1.0f);
  b.close();
  return std::move(b.w);
}

}  // namespace vkf::text
