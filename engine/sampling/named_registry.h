#pragma once
// An ordered, thread-safe registry of named descriptors (samplers, schedulers): built-ins and plugins
// register through the same add(); lists are taken when asked, so node combos and /object_info always
// show what is registered at that moment. Entries are shared_ptr so a run keeps the descriptor (and,
// through it, a plugin's library) alive while it uses it, even if it is removed meanwhile.
#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampling/model_sampling.h"

namespace vkf::sampling {

// Names are what graphs and combos use: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit.
inline bool is_valid_registry_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(n[i]);
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
  }
  return true;
}

template <class Desc>
class NamedRegistry {
 public:
  using Ptr = std::shared_ptr<const Desc>;
  // Called after an add (true) or remove (false), outside the registry lock.
  using Listener = std::function<void(const Desc&, bool added)>;

  explicit NamedRegistry(std::string kind) : kind_(std::move(kind)) {}

  // Throws SamplingError for an invalid name or a duplicate (naming who registered the first one).
  void add(Desc d) {
    if (!is_valid_registry_name(d.name))
      throw SamplingError(kind_ + " name '" + d.name + "' is invalid (1-64 of A-Z a-z 0-9 _ . -)");
    Ptr p = std::make_shared<const Desc>(std::move(d));
    std::vector<Listener> ls;
    {
      std::lock_guard lock(mu_);
      for (const auto& e : entries_)
        if (e->name == p->name)
          throw SamplingError(kind_ + " '" + p->name + "' is already registered (by " + e->origin + ")");
      entries_.push_back(p);
      ls = listeners_;
    }
    for (auto& l : ls) l(*p, true);
  }
  bool remove(std::string_view name) {
    Ptr gone;
    std::vector<Listener> ls;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Ptr& e) { return e->name == name; });
      if (it == entries_.end()) return false;
      gone = *it;
      entries_.erase(it);
      ls = listeners_;
    }
    for (auto& l : ls) l(*gone, false);
    return true;
  }
  Ptr find(std::string_view name) const {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_)
      if (e->name == name) return e;
    return nullptr;
  }
  std::vector<Ptr> all() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  std::vector<std::string> names() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> n;
    for (const auto& e : entries_) n.push_back(e->name);
    return n;
  }
  // "a, b, c" for error messages.
  std::string names_list() const {
    std::string s;
    for (const auto& n : names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  // Registers a listener and replays every current entry to it as added.
  void subscribe(Listener l) {
    std::vector<Ptr> now;
    {
      std::lock_guard lock(mu_);
      listeners_.push_back(l);
      now = entries_;
    }
    for (auto& e : now) l(*e, true);
  }

 private:
  std::string kind_;
  mutable std::mutex mu_;
  std::vector<Ptr> entries_;  // registration order
  std::vector<Listener> listeners_;
};

}  // namespace vkf::sampling
