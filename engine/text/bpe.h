// Byte-level BPE as in openai/CLIP's SimpleTokenizer.bpe(): the UTF-8 bytes of a piece are mapped to
// the printable "byte-to-unicode" alphabet, '</w>' is appended to the last symbol, and the pair with the
// lowest merge rank is merged (all its non-overlapping occurrences, left to right) until none is left.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vkf::text {

using MergeList = std::vector<std::pair<std::string, std::string>>;  // in rank order
using Vocab = std::unordered_map<std::string, int32_t>;              // token string -> id

// The printable string (UTF-8) that GPT-2/CLIP's bytes_to_unicode() assigns to byte b.
const std::string& byte_symbol(uint8_t b);

// The standard CLIP vocabulary built from a merge list: 256 byte symbols (bytes_to_unicode order),
// their '</w>' forms, one token per merge, then <|startoftext|> and <|endoftext|>.
Vocab standard_clip_vocab(const MergeList& merges);

class BpeModel {
 public:
  BpeModel(const MergeList& merges, const Vocab& vocab);

  // Appends the ids of one pre-token (raw UTF-8 bytes). Throws TokenizerError when BPE yields a token
  // missing from the vocabulary (only possible with an inconsistent vocab.json / merges.txt pair).
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  int32_t intern(const std::string& s);

  struct Merge {
    int32_t rank;
    int32_t result;  // symbol id of the concatenation
  };
  std::unordered_map<std::string, int32_t> symbol_ids_;
  std::vector<std::string> symbol_names_;
  std::vector<int32_t> symbol_vocab_;  // vocab id per symbol, -1 when absent
  std::array<int32_t, 256> byte_sym_{};
  std::array<int32_t, 256> byte_end_sym_{};  // with '</w>'
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace vkf::text
