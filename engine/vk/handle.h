// RAII owner for one Vulkan handle: the deleter captures whatever parent (device/instance) it needs.
#pragma once
#include <functional>
#include <utility>

namespace vkf::vk {

template <typename H>
class Handle {
 public:
  Handle() = default;
  Handle(H h, std::function<void(H)> del) : h_(h), del_(std::move(del)) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, H{})), del_(std::move(o.del_)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, H{});
      del_ = std::move(o.del_);
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (h_ && del_) del_(h_);
    h_ = H{};
  }
  H get() const { return h_; }
  operator H() const { return h_; }  // NOLINT: handles are passed to C API calls everywhere
  explicit operator bool() const { return h_ != H{}; }

 private:
  H h_{};
  std::function<void(H)> del_;
};

}  // namespace vkf::vk
