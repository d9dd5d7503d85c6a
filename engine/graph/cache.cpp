#include "engine/graph/cache.h"

namespace vkf::graph {

void OutputCache::set_options(CacheOptions opts) {
  opts_ = opts;
  if (!opts_.enabled) clear();
  evict();
}

const CacheEntry* OutputCache::find(const std::string& signature) {
  if (!opts_.enabled) return nullptr;
  auto it = entries_.find(signature);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.pos);
  return &it->second.entry;
}

const CacheEntry* OutputCache::peek(const std::string& signature) const {
  if (!opts_.enabled) return nullptr;
  auto it = entries_.find(signature);
  return it == entries_.end() ? nullptr : &it->second.entry;
}

void OutputCache::put(const std::string& signature, CacheEntry entry) {
  if (!opts_.enabled || opts_.max_entries == 0) return;
  entry.bytes = entry.ui.dump().size();
  for (auto& v : entry.outputs) entry.bytes += v.bytes();
  if (opts_.max_bytes && entry.bytes > opts_.max_bytes) return;
  if (auto it = entries_.find(signature); it != entries_.end()) {
    bytes_ -= it->second.entry.bytes;
    lru_.erase(it->second.pos);
    entries_.erase(it);
  }
  lru_.push_front(signature);
  bytes_ += entry.bytes;
  entries_.emplace(signature, Slot{std::move(entry), lru_.begin()});
  evict();
}

void OutputCache::evict() {
  while (!lru_.empty() && (entries_.size() > opts_.max_entries || (opts_.max_bytes && bytes_ > opts_.max_bytes))) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.entry.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

void OutputCache::clear() {
  entries_.clear();
  lru_.clear();
  bytes_ = 0;
}

}  // namespace vkf::graph
