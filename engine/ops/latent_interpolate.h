// ComfyUI's LatentInterpolate (norm-preserving per-pixel interpolation over channels) on f32 NCHW.
#pragma once
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {
std::vector<float> latent_interpolate_ref(const std::vector<float>& a, const std::vector<float>& b, int64_t N, int64_t C,
                                          int64_t HW, float ratio);
Tensor latent_interpolate(vk::Recorder& rec, const Tensor& a, const Tensor& b, float ratio);
}  // namespace vkf::ops
