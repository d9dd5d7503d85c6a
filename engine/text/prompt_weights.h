// ComfyUI's prompt emphasis and its 77-token windows (comfy/sd1_clip.py: token_weights, SDTokenizer
// .tokenize_with_weights), so "(cat:1.3)" and "((cat))" mean here what they mean in ComfyUI:
//   "(text)" multiplies the weight by 1.1 per level; "(text:1.3)" sets it to 1.3 (the last ':' inside the
//   parentheses, followed by a number); "\(" and "\)" are literal parentheses; unbalanced ones are text.
// Each weighted segment is tokenized on its own, then the segments are laid into windows of `length` ids
// ([start] + body + [end], padded): a segment of 8 or more tokens is split where the window ends, a shorter
// one moves whole to the next window.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/text/clip_tokenizer.h"

namespace vkf::text {

struct WeightedText {
  std::string text;
  double weight = 1.0;
};

// The segments of `prompt` with their weights, in order (ComfyUI's token_weights after escape_important;
// the segments' escapes are undone). A weight that is not a finite number leaves the text as written.
// Throws std::invalid_argument past kMaxEmphasisDepth nested parentheses.
inline constexpr int kMaxEmphasisDepth = 64;
std::vector<WeightedText> parse_prompt_weights(std::string_view prompt);

struct TokenWindows {
  std::vector<std::vector<int32_t>> ids;  // each `length` long: [start] body [end] pad...
  std::vector<std::vector<float>> weights;  // per id; 1 for start, end and pad
  bool weighted() const;                    // some weight != 1
};

// parse_prompt_weights, each segment through tok.encode, laid into windows (an empty prompt gives one
// window [start, end, pad...]). Requires length >= 3.
TokenWindows tokenize_weighted(const ClipTokenizer& tok, std::string_view prompt, size_t length, int32_t pad_id);

// Windows from ids already tokenized as one segment of weight 1 ([start] body [end], as
// ClipTokenizer::encode returns them).
TokenWindows windows_from_ids(const std::vector<int32_t>& tokens, size_t length, int32_t pad_id);

}  // namespace vkf::text
