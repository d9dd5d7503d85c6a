#include "engine/text/clip_tokenizer.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "engine/text/bpe.h"
#include "engine/text/pretokenize.h"
#include "engine/text/vocab_loader.h"

namespace vkf::text {
namespace {

constexpr std::string_view kStartText = "<|startoftext|>";
constexpr std::string_view kEndText = "<|endoftext|>";
// Bounds the per-piece cache of a long-running process; prompts repeat words, not 100k distinct ones.
constexpr std::size_t kMaxCachedPieces = 1 << 16;

int32_t special_id(const Vocab& vocab, std::string_view token, const std::filesystem::path& file) {
  auto it = vocab.find(std::string(token));
  if (it == vocab.end()) {
    throw TokenizerError("CLIP vocabulary '" + file.string() + "' has no " + std::string(token) + " token");
  }
  return it->second;
}

}  // namespace

struct ClipTokenizer::Cache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>> pieces;
};

ClipTokenizer::ClipTokenizer(std::shared_ptr<const BpeModel> model, int32_t start_id, int32_t end_id,
                             std::size_t vocab_size)
    : model_(std::move(model)),
      cache_(std::make_shared<Cache>()),
      start_id_(start_id),
      end_id_(end_id),
      vocab_size_(vocab_size) {}

ClipTokenizer ClipTokenizer::from_file(const std::filesystem::path& path) {
  VocabData data = load_clip_vocab(path);
  const int32_t start = special_id(data.vocab, kStartText, path);
  const int32_t end = special_id(data.vocab, kEndText, path);
  auto model = std::make_shared<const BpeModel>(data.merges, data.vocab);
  return ClipTokenizer(std::move(model), start, end, data.vocab.size());
}

std::vector<int32_t> ClipTokenizer::encode(std::string_view text) const {
  const std::u32string cleaned = clip_clean(utf8_decode(text, "prompt"));
  std::vector<int32_t> ids{start_id_};
  std::vector<int32_t> piece_ids;
  for (const std::string& piece : clip_split(cleaned)) {
    // The reference pre-seeds its BPE cache with the two special strings, so they map to their ids.
    if (piece == kStartText) {
      ids.push_back(start_id_);
      continue;
    }
    if (piece == kEndText) {
      ids.push_back(end_id_);
      continue;
    }
    {
      std::lock_guard lock(cache_->mutex);
      if (auto it = cache_->pieces.find(piece); it != cache_->pieces.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        continue;
      }
    }
    piece_ids.clear();
    model_->encode_piece(piece, piece_ids);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    std::lock_guard lock(cache_->mutex);
    if (cache_->pieces.size() >= kMaxCachedPieces) cache_->pieces.clear();
    cache_->pieces.emplace(piece, piece_ids);
  }
  ids.push_back(end_id_);
  return ids;
}

std::vector<int32_t> ClipTokenizer::encode_padded(std::string_view text, std::size_t length, int32_t pad_id) const {
  if (length < 2) throw std::invalid_argument("encode_padded: length must be at least 2 (start and end tokens)");
  std::vector<int32_t> ids = encode(text);
  if (ids.size() > length) {
    ids.resize(length);
    ids.back() = end_id_;
  }
  ids.resize(length, pad_id);
  return ids;
}

}  // namespace vkf::text
