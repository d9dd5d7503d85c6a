// The text side of openai/CLIP's SimpleTokenizer.encode(): cleaning and the split regex
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (re.IGNORECASE) implemented as a scanner over code points.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vkf::text {

// html.unescape twice, strip, collapse \s+ to ' ', strip, str.lower() (ftfy.fix_text is the identity
// for the prompts we care about and is not reproduced).
std::u32string clip_clean(std::u32string_view text);

// re.findall(pattern, cleaned) as UTF-8 pieces.
std::vector<std::string> clip_split(std::u32string_view cleaned);

}  // namespace vkf::text
