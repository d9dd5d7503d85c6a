// libFuzzer: CLIP vocabulary loaders + tokenizer. Input: a mode byte, then parts split by "\xff\xff"
// (never in UTF-8): mode even -> [merges.txt][prompt]; odd -> [merges.txt][vocab.json][prompt].
// Prompts include ComfyUI's weight syntax "(word:1.2)" and escapes in the seeds; they also go through the
// emphasis parser and the weighted windows (engine/text/prompt_weights.h). Errors must be TokenizerError (or
// the parser's nesting-limit invalid_argument), never a crash or a non-finite weight.
#include <cstdint>
#include <string_view>
#include <vector>

#include <cmath>
#include <stdexcept>

#include "engine/text/clip_tokenizer.h"
#include "engine/text/prompt_weights.h"
#include "tests/fuzz/fuzz_common.h"

namespace {
std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find("\xff\xff");
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(0, at));
    s.remove_prefix(at + 2);
  }
  parts.push_back(s);
  return parts;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkf;
  if (size < 1) return 0;
  const bool hf = data[0] & 1;
  auto parts = split({reinterpret_cast<const char*>(data) + 1, size - 1});
  if (parts.size() < (hf ? 3u : 2u)) return 0;
  std::filesystem::path vocab;
  if (hf) {
    std::filesystem::create_directories(fuzz::scratch_dir() / "hf");
    vocab = fuzz::write_scratch("hf/vocab.json", parts[1]);
    fuzz::write_scratch("hf/merges.txt", parts[0]);
  } else {
    std::filesystem::create_directories(fuzz::scratch_dir() / "plain");
    vocab = fuzz::write_scratch("plain/merges.txt", parts[0]);
  }
  try {
    auto tok = text::ClipTokenizer::from_file(vocab);
    auto ids = tok.encode(parts.back());
    if (ids.size() < 2) __builtin_trap();
    for (int32_t id : ids)
      if (id < 0) __builtin_trap();
    auto padded = tok.encode_padded(parts.back(), 77, 0);
    if (padded.size() != 77) __builtin_trap();
    const size_t len = 3 + data[0] % 80;  // odd window lengths too
    auto w = text::tokenize_weighted(tok, parts.back(), len, 0);
    if (w.ids.empty() || w.ids.size() != w.weights.size()) __builtin_trap();
    for (size_t i = 0; i < w.ids.size(); ++i) {
      if (w.ids[i].size() != len || w.weights[i].size() != len) __builtin_trap();
      for (float x : w.weights[i])
        if (!std::isfinite(x)) __builtin_trap();
    }
  } catch (const text::TokenizerError&) {
  } catch (const std::invalid_argument&) {  // nesting deeper than kMaxEmphasisDepth
  }
  return 0;
}
