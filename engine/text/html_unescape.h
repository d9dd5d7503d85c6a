// Python's html.unescape(), exactly: HTML5 named references (with the legacy ';'-less names and
// longest-prefix matching), decimal/hex numeric references with HTML5's cp1252 remapping.
#pragma once

#include <string>
#include <string_view>

namespace vkf::text {

std::u32string html_unescape(std::u32string_view s);

}  // namespace vkf::text
