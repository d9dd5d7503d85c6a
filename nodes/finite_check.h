// Non-finite results fail the node (RunEnv::limits.allow_nonfinite, `vkflow run --allow-nonfinite`, lets
// them through): a NaN latent otherwise becomes a black PNG reported as success.
#pragma once
#include <optional>
#include <string>

#include "engine/graph/node_context.h"
#include "engine/ops/nonfinite.h"

namespace vkf::nodes {

// Counters recorded in `rec` next to the work they check, or nullopt when the run allows non-finite values.
class FiniteCheck {
 public:
  FiniteCheck(const graph::NodeContext& ctx, vk::Context& gpu, int64_t slots);
  bool enabled() const { return counters_.has_value(); }
  void record(vk::Recorder& rec, const Tensor& t, int64_t slot);
  // After the recorder was submitted: throws naming the first slot with NaN/Inf; `slot_name(i)` says
  // what slot i held ("the denoised prediction of step 3 of 20").
  template <class F>
  void require_finite(F slot_name) const {
    if (!counters_) return;
    auto counts = ops::read_nonfinite(gpu_, *counters_);
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i].any()) fail(slot_name(int64_t(i)), counts[i]);
  }

 private:
  [[noreturn]] static void fail(const std::string& what, const ops::NonfiniteCount& c);
  vk::Context& gpu_;
  std::optional<Tensor> counters_;
};

}  // namespace vkf::nodes
