// libFuzzer: CLIP vocabulary loaders + tokenizer. Input: a mode byte, then parts split by "\xff\xff"
// (never in UTF-8): mode & 2 -> [prompt] with the bundled model's vocabulary (loaded once); else mode even
// -> [merges.txt][prompt]; odd -> [merges.txt][vocab.json][prompt]. The vocabulary of the last input is
// kept, so mutations of the prompt alone do not reload it (loading it each time held this target at
// ~1500 exec/s). Prompts include ComfyUI's weight syntax "(word:1.2)" and escapes in the seeds; they also
// go through the emphasis parser and the weighted windows (engine/text/prompt_weights.h). Errors must be
// TokenizerError (or the parser's nesting-limit invalid_argument), never a crash or a non-finite weight.
#include <cstdint>
#include <string_view>
#include <vector>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
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

// The tokenizer for `key` (mode bit and vocabulary parts): the last one built when the key is the same,
// else loaded from the files `write` leaves; nullptr (also kept) when loading fails with TokenizerError.
const vkf::text::ClipTokenizer* tokenizer_for(const std::string& key, const std::function<std::filesystem::path()>& write) {
  static std::string last_key;
  static std::unique_ptr<vkf::text::ClipTokenizer> last;
  static bool loaded = false;
  if (!loaded || key != last_key) {
    last.reset();
    last_key = key;
    loaded = true;
    try {
      last = std::make_unique<vkf::text::ClipTokenizer>(vkf::text::ClipTokenizer::from_file(write()));
    } catch (const vkf::text::TokenizerError&) {
    }
  }
  return last.get();
}

const vkf::text::ClipTokenizer& bundled() {
  static const vkf::text::ClipTokenizer tok = vkf::text::ClipTokenizer::from_file(
      std::filesystem::path(VKFLOW_SOURCE_DIR) / "models" / "checkpoints" / "vkflow-fashion.vocab.json");
  return tok;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkf;
  if (size < 1) return 0;
  const bool hf = data[0] & 1, fixed = data[0] & 2;
  auto parts = split({reinterpret_cast<const char*>(data) + 1, size - 1});
  const text::ClipTokenizer* tok = nullptr;
  if (fixed) {
    tok = &bundled();
  } else {
    if (parts.size() < (hf ? 3u : 2u)) return 0;
    std::string key(1, hf ? '1' : '0');
    key.append(parts[0]).append("\xff\xff").append(hf ? parts[1] : std::string_view());
    tok = tokenizer_for(key, [&] {
      if (hf) {
        std::filesystem::create_directories(fuzz::scratch_dir() / "hf");
        fuzz::write_scratch("hf/merges.txt", parts[0]);
        return fuzz::write_scratch("hf/vocab.json", parts[1]);
      }
      std::filesystem::create_directories(fuzz::scratch_dir() / "plain");
      return fuzz::write_scratch("plain/merges.txt", parts[0]);
    });
    if (!tok) return 0;
  }
  try {
    auto ids = tok->encode(parts.back());
    if (ids.size() < 2) __builtin_trap();
    for (int32_t id : ids)
      if (id < 0) __builtin_trap();
    auto padded = tok->encode_padded(parts.back(), 77, 0);
    if (padded.size() != 77) __builtin_trap();
    const size_t len = 3 + data[0] % 80;  // odd window lengths too
    auto w = text::tokenize_weighted(*tok, parts.back(), len, 0);
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
