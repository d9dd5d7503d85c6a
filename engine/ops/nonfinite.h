// Non-finite detection on the GPU: a counting pass (NaN and Inf separately) over a tensor into a slot of a
// small counter buffer, recorded into the caller's command buffer, so a sampler can check every step and
// read all slots back once at the end. Cheap: one read of the tensor, a few atomics per workgroup.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct NonfiniteCount {
  uint64_t nan = 0, inf = 0;
  bool any() const { return nan || inf; }
};

// CPU reference.
NonfiniteCount count_nonfinite_ref(const std::vector<float>& x);

// A zeroed counter buffer with `slots` slots (uint32 NaN, Inf each).
Tensor nonfinite_counters(vk::Context& ctx, int64_t slots);
// Adds the NaN / Inf counts of x (F32 or F16) into slot `slot` of `counters`.
void count_nonfinite(vk::Recorder& rec, const Tensor& x, const Tensor& counters, int64_t slot);
// Reads the counters back (after the recorder was submitted): one entry per slot.
std::vector<NonfiniteCount> read_nonfinite(vk::Context& ctx, const Tensor& counters);

// One tensor, submitted and read back at once.
NonfiniteCount count_nonfinite(vk::Context& ctx, const Tensor& x);

}  // namespace vkf::ops
