// Code point classification and case mapping as CPython (and the `regex` module) see them, from the
// generated tables; no ICU. Plus strict UTF-8 decoding/encoding.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace vkf::text {

struct TokenizerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_letter(char32_t c);          // \p{L}
bool is_number(char32_t c);          // \p{N}
bool is_white_space(char32_t c);     // Unicode White_Space (the regex module's \s)
bool is_py_space(char32_t c);        // str.isspace() (what str.strip() removes)
bool is_cased(char32_t c);           // CPython's Final_Sigma "cased"
bool is_case_ignorable(char32_t c);  // CPython's Final_Sigma "case-ignorable"

// Python's str.lower() of a whole string (full mappings, e.g. U+0130 -> "i\u0307", and Final_Sigma).
std::u32string py_lower(std::u32string_view s);

// Strict UTF-8 (rejects overlong forms, surrogates, > U+10FFFF, truncation). Throws TokenizerError
// "<what> is not valid UTF-8 at byte N".
std::u32string utf8_decode(std::string_view s, std::string_view what = "prompt");
void utf8_append(std::string& out, char32_t c);
std::string utf8_encode(std::u32string_view s);

}  // namespace vkf::text
