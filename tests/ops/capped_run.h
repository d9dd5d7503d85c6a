// Runs an op once as is and once under a small binding cap, checking that the capped run split its work
// (more dispatches) and that no dispatch bound more than the cap.
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <utility>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"
#include "tests/ops/eltwise_util.h"

namespace vkf::test {

// op(vk::Recorder&) -> Tensor. Returns the capped run's output.
template <class Op>
Tensor run_capped(uint64_t cap, Op&& op) {
  auto& ctx = gpu();
  uint32_t base = 0;
  {
    vk::Recorder r(ctx);
    op(r);
    r.submit();
    base = r.dispatch_count();
  }
  BindingCap c(cap);
  vk::Recorder rec(ctx);
  Tensor out = op(rec);
  rec.submit();
  INFO("cap " << cap << ": dispatches " << rec.dispatch_count() << " (uncapped " << base << "), largest binding "
              << rec.max_binding_bytes());
  CHECK(rec.max_binding_bytes() <= cap);
  CHECK(rec.dispatch_count() > base);
  return out;
}

}  // namespace vkf::test
