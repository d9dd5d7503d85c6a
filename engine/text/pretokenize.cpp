#include "engine/text/pretokenize.h"

#include <array>

#include "engine/text/html_unescape.h"
#include "engine/text/unicode.h"

namespace vkf::text {
namespace {

std::u32string_view py_strip(std::u32string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}

// IGNORECASE equality of a (lowercased) code point with an ASCII pattern letter. Besides ASCII case,
// the only case-equivalent code point left after lower() is U+017F LATIN SMALL LETTER LONG S ~ 's'.
bool ci_equal(char32_t c, char p) {
  if (c == static_cast<char32_t>(p)) return true;
  if (p >= 'a' && p <= 'z' && c == static_cast<char32_t>(p - 32)) return true;
  return p == 's' && c == 0x017F;
}

bool matches_at(std::u32string_view s, std::size_t i, std::string_view lit) {
  if (s.size() - i < lit.size()) return false;
  for (std::size_t k = 0; k < lit.size(); ++k) {
    if (!ci_equal(s[i + k], lit[k])) return false;
  }
  return true;
}

// The literal alternatives, in pattern order (first match wins, like the regex engine).
constexpr std::array<std::string_view, 9> kLiterals = {
    "<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

}  // namespace

std::u32string clip_clean(std::u32string_view text) {
  const std::u32string once = html_unescape(text);
  const std::u32string twice = html_unescape(once);
  const std::u32string_view stripped = py_strip(twice);
  std::u32string collapsed;
  collapsed.reserve(stripped.size());
  for (std::size_t i = 0; i < stripped.size();) {
    if (is_white_space(stripped[i])) {
      collapsed.push_back(U' ');
      while (i < stripped.size() && is_white_space(stripped[i])) ++i;
    } else {
      collapsed.push_back(stripped[i++]);
    }
  }
  return py_lower(py_strip(collapsed));
}

std::vector<std::string> clip_split(std::u32string_view s) {
  std::vector<std::string> pieces;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t end = i;
    for (std::string_view lit : kLiterals) {
      if (matches_at(s, i, lit)) {
        end = i + lit.size();
        break;
      }
    }
    if (end == i) {
      const char32_t c = s[i];
      if (is_letter(c)) {
        while (end < s.size() && is_letter(s[end])) ++end;
      } else if (is_number(c)) {
        end = i + 1;
      } else if (!is_white_space(c)) {
        while (end < s.size() && !is_white_space(s[end]) && !is_letter(s[end]) && !is_number(s[end])) ++end;
      }
    }
    if (end == i) {  // whitespace: no alternative matches here
      ++i;
      continue;
    }
    pieces.push_back(utf8_encode(s.substr(i, end - i)));
    i = end;
  }
  return pieces;
}

}  // namespace vkf::text

