// Numerically stable softmax over the last axis (fp32 arithmetic, F32/F16 storage, row-chunked).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

std::vector<float> softmax_ref(const std::vector<float>& x, int64_t row_len);
void softmax(vk::Recorder& rec, const Tensor& x, const Tensor& dst);  // dst may alias x
Tensor softmax(vk::Recorder& rec, const Tensor& x);

}  // namespace vkf::ops
