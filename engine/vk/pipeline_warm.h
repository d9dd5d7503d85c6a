// Ahead-of-time pipeline preparation. lavapipe JIT-compiles a compute pipeline at its first dispatch, not in
// vkCreateComputePipelines, so "prepared at load" means building AND dispatching each pipeline once: one
// workgroup, zero push constants, every binding on a zeroed scratch buffer (the kernels' bounds checks see
// empty sizes). On CPU devices the dispatches run on a few extra VkDevices in parallel; their LLVM output
// reaches the main device through Mesa's shader cache (its own pass is then a cache lookup).
#pragma once
#include <cstddef>
#include <vector>

#include "engine/vk/pipeline.h"

namespace vkf::vk {

class Context;

struct PrepareStats {
  size_t built = 0;      // pipelines created by this call
  size_t warmed = 0;     // pipelines dispatched once by this call (CPU devices only)
  unsigned devices = 0;  // devices (main + helpers) that ran the warm-up dispatches
  double ms = 0;         // wall time of the call
};

// Builds every desc (in parallel) and, on CPU devices, runs each not yet warmed once. threads 0: hardware
// threads.
PrepareStats prepare_pipelines(Context& ctx, const std::vector<PipelineDesc>& descs, unsigned threads = 0);

}  // namespace vkf::vk
