// openai/CLIP's SimpleTokenizer (the tokenizer of SD1.x/SD2.x text encoders), reproduced exactly:
// html.unescape x2, whitespace clean-up, str.lower(), the CLIP split regex, byte-level BPE.
//
//   auto tok = vkf::text::ClipTokenizer::from_file(vkf::text::find_clip_vocab(flag, models_dir, ckpt));
//   std::vector<int32_t> ids = tok.encode_padded("a photo of a cat");  // 77 ids for SD1.x
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/text/unicode.h"  // TokenizerError

namespace vkf::text {

class BpeModel;

class ClipTokenizer {
 public:
  // Accepts: openai's bpe_simple_vocab_16e6.txt.gz (or the same merges list as plain text), a Hugging
  // Face vocab.json (merges.txt, or <stem>.merges.txt for <stem>.vocab.json, beside it), a merges.txt
  // (with vocab.json beside it when present), or a directory holding one of these.
  // Throws TokenizerError naming the file on a missing, unreadable, truncated or malformed vocabulary.
  static ClipTokenizer from_file(const std::filesystem::path& path);

  // [start] + tokens + [end], not truncated. Throws TokenizerError "prompt is not valid UTF-8 at byte N".
  std::vector<int32_t> encode(std::string_view text) const;
  // encode(), cut to `length` keeping the final end token, then padded with pad_id (SD1.x: 77, 49407;
  // SD2.x/OpenCLIP pads with 0). Requires length >= 2.
  std::vector<int32_t> encode_padded(std::string_view text, std::size_t length = 77,
                                     int32_t pad_id = 49407) const;

  int32_t start_id() const { return start_id_; }
  int32_t end_id() const { return end_id_; }
  std::size_t vocab_size() const { return vocab_size_; }

 private:
  struct Cache;
  ClipTokenizer(std::shared_ptr<const BpeModel> model, int32_t start_id, int32_t end_id, std::size_t vocab_size);

  std::shared_ptr<const BpeModel> model_;
  std::shared_ptr<Cache> cache_;  // per-piece BPE results; thread-safe, shared by copies
  int32_t start_id_;
  int32_t end_id_;
  std::size_t vocab_size_;
};

// Where the CLIP vocabulary is, in this order: the --clip-vocab flag, env VKFLOW_CLIP_VOCAB,
// <models_dir>/clip_vocab/, then beside the checkpoint (<ckpt stem>.vocab.json, vocab.json, merges.txt,
// bpe_simple_vocab_16e6.txt.gz). The result is accepted by ClipTokenizer::from_file. Throws
// TokenizerError saying where to put one and listing every path tried; a flag or env path that does
// not exist is an error by itself (no silent fallback).
std::filesystem::path find_clip_vocab(const std::optional<std::filesystem::path>& cli_flag,
                                      const std::filesystem::path& models_dir,
                                      const std::filesystem::path& checkpoint);

}  // namespace vkf::text
