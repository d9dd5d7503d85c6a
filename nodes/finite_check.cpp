#include "nodes/finite_check.h"

#include <stdexcept>

namespace vkf::nodes {

FiniteCheck::FiniteCheck(const graph::NodeContext& ctx, vk::Context& gpu, int64_t slots) : gpu_(gpu) {
  if (!ctx.limits().allow_nonfinite) counters_ = ops::nonfinite_counters(gpu, slots);
}

void FiniteCheck::record(vk::Recorder& rec, const Tensor& t, int64_t slot) {
  if (counters_ && t.defined()) ops::count_nonfinite(rec, t, *counters_, std::min(slot, counters_->dim(0) - 1));
}

void FiniteCheck::fail(const std::string& what, const ops::NonfiniteCount& c) {
  throw std::runtime_error("non-finite values in " + what + " (" + std::to_string(c.nan) + " NaN, " +
                           std::to_string(c.inf) + " Inf): the model's weights or inputs hold NaN/Inf, or a "
                           "half-precision value overflowed; --allow-nonfinite keeps such results");
}

}  // namespace vkf::nodes
