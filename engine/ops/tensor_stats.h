// Summary statistics of a tensor on the GPU — min, max and mean over its finite elements, and how many are
// NaN / Inf — for inspecting values (the editor's link tooltip, debugging a run) without downloading the
// tensor: two small dispatches, 32 bytes read back.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct TensorStats {
  // Over the finite elements; all three are NaN when there is none (an empty or all non-finite tensor).
  float min = 0, max = 0;
  double mean = 0;
  uint64_t nan = 0, inf = 0, finite = 0;
};

// CPU reference (mean summed in double).
TensorStats tensor_stats_ref(const std::vector<float>& x);

// Records the reduction of x (F32 or F16) into a new 8-float tensor; read it with read_tensor_stats after
// the recorder was submitted.
Tensor tensor_stats(vk::Recorder& rec, const Tensor& x);
TensorStats read_tensor_stats(vk::Context& ctx, const Tensor& stats);

// One tensor, submitted and read back at once.
TensorStats tensor_stats(vk::Context& ctx, const Tensor& x);

}  // namespace vkf::ops
