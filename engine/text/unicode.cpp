#include "engine/text/unicode.h"

#include <algorithm>

#include "engine/text/unicode_tables.h"

namespace vkf::text {
namespace {

bool in_ranges(const tables::CpRange* r, std::size_t n, char32_t c) {
  const tables::CpRange* end = r + n;
  // first range whose last >= c
  const tables::CpRange* it =
      std::lower_bound(r, end, c, [](const tables::CpRange& a, char32_t v) { return a.last < v; });
  return it != end && it->first <= c;
}

// Appends str.lower() of one code point.
void lower_one(char32_t c, std::u32string& out) {
  if (c < 0x80) {  // fast path: ASCII
    out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
    return;
  }
  for (std::size_t i = 0; i < tables::lower_specials_count; ++i) {
    const auto& s = tables::lower_specials[i];
    if (s.cp == c) {
      out.append(s.out, static_cast<std::size_t>(s.n));
      return;
    }
  }
  const tables::LowerRun* begin = tables::lower_runs;
  const tables::LowerRun* end = begin + tables::lower_runs_count;
  const tables::LowerRun* it =
      std::lower_bound(begin, end, c, [](const tables::LowerRun& a, char32_t v) { return a.last < v; });
  if (it != end && it->first <= c && (c - it->first) % static_cast<char32_t>(it->stride) == 0) {
    out.push_back(static_cast<char32_t>(static_cast<int64_t>(c) + it->delta));
    return;
  }
  out.push_back(c);
}

// CPython's handle_capital_sigma: cased case-ignorable* SIGMA !(case-ignorable* cased) -> final sigma.
bool final_sigma(std::u32string_view s, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(s[j - 1])) --j;
  if (j == 0 || !is_cased(s[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < s.size() && is_case_ignorable(s[k])) ++k;
  return k == s.size() || !is_cased(s[k]);
}

[[noreturn]] void throw_bad_utf8(std::string_view what, std::size_t at) {
  throw TokenizerError(std::string(what) + " is not valid UTF-8 at byte " + std::to_string(at));
}

}  // namespace

bool is_letter(char32_t c) { return in_ranges(tables::letter, tables::letter_count, c); }
bool is_number(char32_t c) { return in_ranges(tables::number, tables::number_count, c); }
bool is_white_space(char32_t c) { return in_ranges(tables::white_space, tables::white_space_count, c); }
bool is_py_space(char32_t c) { return in_ranges(tables::py_space, tables::py_space_count, c); }
bool is_cased(char32_t c) { return in_ranges(tables::cased, tables::cased_count, c); }
bool is_case_ignorable(char32_t c) {
  return in_ranges(tables::case_ignorable, tables::case_ignorable_count, c);
}

std::u32string py_lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0x03A3) {
      out.push_back(final_sigma(s, i) ? 0x03C2 : 0x03C3);
    } else {
      lower_one(s[i], out);
    }
  }
  return out;
}

std::u32string utf8_decode(std::string_view s, std::string_view what) {
  std::u32string out;
  out.reserve(s.size());
  auto fail = [what](std::size_t at) { throw_bad_utf8(what, at); };
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    std::size_t n = 0;
    char32_t c = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      n = 2, c = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3, c = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4, c = b0 & 0x07, min = 0x10000;
    } else {
      fail(i);
    }
    if (i + n > s.size()) fail(i);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) fail(i);
      c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) fail(i);
    out.push_back(c);
    i += n;
  }
  return out;
}

void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string utf8_encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

}  // namespace vkf::text
