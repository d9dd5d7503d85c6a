// Output cache across runs, keyed by node signature (class + literal inputs + ancestors' signatures), so
// re-running a graph with one changed widget re-executes only what is downstream of it. Bounded LRU by
// entry count and by the approximate bytes the cached Values report.
#pragma once
#include <list>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/graph/value.h"

namespace vkf::graph {

struct CacheOptions {
  bool enabled = true;
  size_t max_entries = 256;
  size_t max_bytes = 0;  // 0: no byte bound
};

struct CacheEntry {
  Outputs outputs;
  nlohmann::json ui;  // the node's UI results, re-sent in `executed` when served from cache
  size_t bytes = 0;   // filled by put()
};

class OutputCache {
 public:
  explicit OutputCache(CacheOptions opts = {}) : opts_(opts) {}

  const CacheOptions& options() const { return opts_; }
  void set_options(CacheOptions opts);  // shrinking evicts at once; disabling clears

  const CacheEntry* find(const std::string& signature);  // marks it most recently used; nullptr when absent
  const CacheEntry* peek(const std::string& signature) const;  // as find, leaving the LRU order alone
  void put(const std::string& signature, CacheEntry entry);  // an entry alone over max_bytes is not kept
  void clear();

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  void evict();

  CacheOptions opts_;
  std::list<std::string> lru_;  // front: most recent
  struct Slot {
    CacheEntry entry;
    std::list<std::string>::iterator pos;
  };
  std::map<std::string, Slot> entries_;
  size_t bytes_ = 0;
};

}  // namespace vkf::graph
