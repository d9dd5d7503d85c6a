#include "engine/text/bpe.h"

#include <algorithm>
#include <queue>

#include "engine/text/unicode.h"

namespace vkf::text {
namespace {

// bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onward.
// Returned in the dict's insertion order, which is also the order of the first 256 vocab ids.
std::vector<std::pair<uint8_t, std::string>> bytes_to_unicode() {
  std::vector<std::pair<uint8_t, std::string>> out;
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
  for (int b = 0; b < 256; ++b) {
    if (!printable(b)) continue;
    std::string s;
    utf8_append(s, static_cast<char32_t>(b));
    out.emplace_back(static_cast<uint8_t>(b), s);
  }
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (printable(b)) continue;
    std::string s;
    utf8_append(s, static_cast<char32_t>(256 + n++));
    out.emplace_back(static_cast<uint8_t>(b), s);
  }
  return out;
}

const std::array<std::string, 256>& byte_symbols() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (auto& [b, s] : bytes_to_unicode()) t[b] = s;
    return t;
  }();
  return table;
}

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

constexpr std::string_view kEndOfWord = "</w>";

}  // namespace

const std::string& byte_symbol(uint8_t b) { return byte_symbols()[b]; }

Vocab standard_clip_vocab(const MergeList& merges) {
  std::vector<std::string> tokens;
  tokens.reserve(512 + merges.size() + 2);
  const auto alphabet = bytes_to_unicode();
  for (const auto& [b, s] : alphabet) tokens.push_back(s);
  for (const auto& [b, s] : alphabet) tokens.push_back(s + std::string(kEndOfWord));
  for (const auto& [a, b] : merges) tokens.push_back(a + b);
  tokens.emplace_back("<|startoftext|>");
  tokens.emplace_back("<|endoftext|>");
  Vocab vocab;
  vocab.reserve(tokens.size());
  // dict(zip(vocab, range(len(vocab)))): a repeated string keeps its last id.
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = static_cast<int32_t>(i);
  return vocab;
}

BpeModel::BpeModel(const MergeList& merges, const Vocab& vocab) {
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_symbol(static_cast<uint8_t>(b));
    byte_sym_[b] = intern(s);
    byte_end_sym_[b] = intern(s + std::string(kEndOfWord));
  }
  merges_.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    const int32_t ia = intern(a);
    const int32_t ib = intern(b);
    const int32_t im = intern(a + b);
    // dict(zip(merges, range(...))): a repeated pair keeps its last rank.
    merges_[pair_key(ia, ib)] = Merge{static_cast<int32_t>(r), im};
  }
  symbol_vocab_.assign(symbol_names_.size(), -1);
  for (std::size_t i = 0; i < symbol_names_.size(); ++i) {
    if (auto it = vocab.find(symbol_names_[i]); it != vocab.end()) symbol_vocab_[i] = it->second;
  }
}

int32_t BpeModel::intern(const std::string& s) {
  auto [it, inserted] = symbol_ids_.try_emplace(s, static_cast<int32_t>(symbol_names_.size()));
  if (inserted) symbol_names_.push_back(s);
  return it->second;
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  // Symbols as a doubly linked list over the initial positions; a merge keeps the left node.
  struct Node {
    int32_t sym;
    int32_t prev, next;
  };
  const auto n = static_cast<int32_t>(piece.size());
  std::vector<Node> nodes(piece.size());
  for (int32_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint8_t>(piece[static_cast<std::size_t>(i)]);
    nodes[i] = Node{i == n - 1 ? byte_end_sym_[b] : byte_sym_[b], i - 1, i + 1 < n ? i + 1 : -1};
  }
  // Candidate merges ordered by (rank, position). Taking every entry of the lowest rank as one batch in
  // position order, skipping stale ones, is exactly the reference loop "merge all non-overlapping
  // occurrences of the best pair left to right, then look again", in O(n log n) instead of O(n^2).
  struct Candidate {
    int32_t rank, pos, left, right;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || nodes[pos].next < 0) return;
    const int32_t l = nodes[pos].sym, r = nodes[nodes[pos].next].sym;
    if (auto it = merges_.find(pair_key(l, r)); it != merges_.end()) heap.push({it->second.rank, pos, l, r});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  std::vector<Candidate> batch;
  while (!heap.empty()) {
    // Pairs created by this batch join the heap only afterwards, as in the reference (whatever their
    // rank, which a well-formed merges list always makes larger anyway).
    batch.clear();
    const int32_t rank = heap.top().rank;
    while (!heap.empty() && heap.top().rank == rank) {
      batch.push_back(heap.top());
      heap.pop();
    }
    for (const Candidate& c : batch) {
      Node& left = nodes[c.pos];
      // Stale when either side has merged since (symbols only grow, so equality means unchanged).
      if (left.sym != c.left || left.next < 0 || nodes[left.next].sym != c.right) continue;
      const int32_t right_pos = left.next;
      left.sym = merges_.at(pair_key(c.left, c.right)).result;
      left.next = nodes[right_pos].next;
      if (left.next >= 0) nodes[left.next].prev = c.pos;
      nodes[right_pos].sym = -1;  // dead
      push(left.prev);
      push(c.pos);
    }
  }
  for (int32_t i = 0; i >= 0; i = nodes[i].next) {
    const int32_t id = symbol_vocab_[static_cast<std::size_t>(nodes[i].sym)];
    if (id < 0) {
      throw TokenizerError("BPE produced the token '" + symbol_names_[static_cast<std::size_t>(nodes[i].sym)] +
                           "', which is not in the vocabulary (vocab.json and merges.txt do not match)");
    }
    out.push_back(id);
  }
}

}  // namespace vkf::text
