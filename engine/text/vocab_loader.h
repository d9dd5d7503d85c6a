// Reading CLIP vocabularies from disk: openai's gzip'd merges list, the same as plain text, or a
// Hugging Face vocab.json + merges.txt pair.
#pragma once

#include <filesystem>
#include <optional>

#include "engine/text/bpe.h"

namespace vkf::text {

// openai's encoder uses merges[1 : 49152-256-2+1]: 48894 merges, 49408 tokens in all.
inline constexpr std::size_t kClipMergeCount = 49152 - 256 - 2;

struct VocabData {
  MergeList merges;
  Vocab vocab;
};

// See ClipTokenizer::from_file for what `path` may be. Throws TokenizerError naming the file.
VocabData load_clip_vocab(const std::filesystem::path& path);

// The vocabulary file from_file would pick in a directory, if any.
std::optional<std::filesystem::path> vocab_file_in_directory(const std::filesystem::path& dir);

}  // namespace vkf::text
