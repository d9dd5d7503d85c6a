#include "engine/text/html_unescape.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "engine/text/unicode.h"
#include "engine/text/unicode_tables.h"

namespace vkf::text {
namespace {

constexpr char32_t kNoCodePoint = 0x110000;

const tables::HtmlEntity* find_entity(std::string_view name) {
  const tables::HtmlEntity* begin = tables::html_entities;
  const tables::HtmlEntity* end = begin + tables::html_entities_count;
  const tables::HtmlEntity* it = std::lower_bound(
      begin, end, name, [](const tables::HtmlEntity& e, std::string_view v) { return std::string_view(e.name) < v; });
  return it != end && std::string_view(it->name) == name ? it : nullptr;
}

void append_entity(std::u32string& out, const tables::HtmlEntity& e) {
  out.push_back(e.cp[0]);
  if (e.cp[1] != 0) out.push_back(e.cp[1]);
}

// html._replace_charref for a numeric reference whose value is `num` (saturated at kNoCodePoint).
void append_numeric(std::u32string& out, char32_t num) {
  for (std::size_t i = 0; i < tables::html_charref_fix_count; ++i) {
    if (tables::html_charref_fix[i].num == num) {
      out.push_back(tables::html_charref_fix[i].out);
      return;
    }
  }
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out.push_back(0xFFFD);
    return;
  }
  for (std::size_t i = 0; i < tables::html_dropped_codepoints_count; ++i) {
    const auto& r = tables::html_dropped_codepoints[i];
    if (num >= r.first && num <= r.last) return;
  }
  out.push_back(num);
}

int digit_value(char32_t c, bool hex) {
  if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
  if (hex && c >= U'a' && c <= U'f') return static_cast<int>(c - U'a' + 10);
  if (hex && c >= U'A' && c <= U'F') return static_cast<int>(c - U'A' + 10);
  return -1;
}

// Tries `#[0-9]+;?` / `#[xX][0-9a-fA-F]+;?` at s[j] (just after '&'); returns the end of the match.
std::optional<std::size_t> match_numeric(std::u32string_view s, std::size_t j, std::u32string& out) {
  if (j >= s.size() || s[j] != U'#') return std::nullopt;
  std::size_t k = j + 1;
  bool hex = false;
  if (k < s.size() && digit_value(s[k], false) < 0) {
    if ((s[k] != U'x' && s[k] != U'X') || k + 1 >= s.size() || digit_value(s[k + 1], true) < 0) {
      return std::nullopt;
    }
    hex = true;
    ++k;
  }
  if (k >= s.size()) return std::nullopt;
  char32_t num = 0;
  int d;
  while (k < s.size() && (d = digit_value(s[k], hex)) >= 0) {
    // Python's int() is unbounded; anything past U+10FFFF behaves the same, so saturate.
    const uint64_t next = uint64_t{num} * (hex ? 16 : 10) + static_cast<uint64_t>(d);
    num = next >= kNoCodePoint ? kNoCodePoint : static_cast<char32_t>(next);
    ++k;
  }
  if (k < s.size() && s[k] == U';') ++k;
  append_numeric(out, num);
  return k;
}

bool ends_name(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' || c == U'#' ||
         c == U';';
}

// Tries `[^\t\n\f <&#;]{1,32};?` at s[j]; returns the end of the match.
std::optional<std::size_t> match_named(std::u32string_view s, std::size_t j, std::u32string& out) {
  std::size_t k = j;
  while (k < s.size() && k - j < 32 && !ends_name(s[k])) ++k;
  if (k == j) return std::nullopt;
  if (k < s.size() && s[k] == U';') ++k;
  const std::u32string_view name = s.substr(j, k - j);
  if (const auto* e = find_entity(utf8_encode(name))) {
    append_entity(out, *e);
    return k;
  }
  // Longest prefix that is a known name (length >= 2), followed by the rest verbatim.
  for (std::size_t x = name.size() - 1; x >= 2; --x) {
    if (const auto* e = find_entity(utf8_encode(name.substr(0, x)))) {
      append_entity(out, *e);
      out.append(name.substr(x));
      return k;
    }
  }
  out.push_back(U'&');
  out.append(name);
  return k;
}

}  // namespace

std::u32string html_unescape(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != U'&') {
      out.push_back(s[i++]);
      continue;
    }
    std::optional<std::size_t> end = s.size() > i + 1 && s[i + 1] == U'#' ? match_numeric(s, i + 1, out)
                                                                        : match_named(s, i + 1, out);
    if (end) {
      i = *end;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

}  // namespace vkf::text
