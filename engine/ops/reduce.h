// Full reductions to one scalar on the GPU: dot(a, b) = sum_i a_i * b_i (and so the L2 norm, dot(a, a)).
// Two passes recorded into the caller's command buffer: per-workgroup partial sums (grid-strided per
// thread, shared-memory tree per workgroup, chunked for tensors over maxStorageBufferRange), then one
// workgroup adds the partials. The result is a 1-element F32 tensor: a caller that needs the value on the
// host submits and reads back 4 bytes, never the operands. fp32 accumulation throughout.
#pragma once
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// CPU reference: the sum in double.
double dot_ref(const std::vector<float>& a, const std::vector<float>& b);

// A 1-element F32 tensor holding dot(a, b); a and b share shape and dtype (F32 or F16).
Tensor dot(vk::Recorder& rec, const Tensor& a, const Tensor& b);

}  // namespace vkf::ops
