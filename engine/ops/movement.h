// Data-movement ops (bit-exact copies; F32, F16 and I32 unless noted): nearest x2 upsampling, concat and
// narrow along any axis, general permute (<= 5-D), constant 2-D padding. Upsample, concat, narrow and
// pad2d chunk tensors over maxStorageBufferRange; permute splits its index space into boxes whose input
// and output spans each fit one binding.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// [..., H, W] -> [..., 2H, 2W] (rank >= 2; UNet/VAE use [N, C, H, W]).
std::vector<float> upsample_nearest2x_ref(const std::vector<float>& x, const Shape& shape);
void upsample_nearest2x(vk::Recorder& rec, const Tensor& x, const Tensor& dst);
Tensor upsample_nearest2x(vk::Recorder& rec, const Tensor& x);

// torch.cat(parts, dim=axis) (axis may be negative); all parts share rank, dtype and the other dims.
std::vector<float> concat_ref(const std::vector<std::vector<float>>& parts, const std::vector<Shape>& shapes, int axis);
void concat(vk::Recorder& rec, const std::vector<const Tensor*>& parts, int axis, const Tensor& dst);
Tensor concat(vk::Recorder& rec, const std::vector<const Tensor*>& parts, int axis);

// x.narrow(axis, begin, length) as a new contiguous tensor (e.g. chunk(moments, 2, dim=1)).
Tensor narrow(vk::Recorder& rec, const Tensor& x, int axis, int64_t begin, int64_t length);

// out.shape[i] = x.shape[perm[i]] (torch permute). b n (h d) -> b h n d is
// permute(x.reshape({b, n, h, d}), {0, 2, 1, 3}).
std::vector<float> permute_ref(const std::vector<float>& x, const Shape& shape, const std::vector<int>& perm);
void permute(vk::Recorder& rec, const Tensor& x, const std::vector<int>& perm, const Tensor& dst);
Tensor permute(vk::Recorder& rec, const Tensor& x, const std::vector<int>& perm);

// F.pad(x, (left, right, top, bottom), value=value) on the last two axes; negative pads crop. F32/F16.
struct Pad2d {
  int left = 0, right = 0, top = 0, bottom = 0;
  float value = 0.0f;
};
std::vector<float> pad2d_ref(const std::vector<float>& x, const Shape& shape, const Pad2d& p);
void pad2d(vk::Recorder& rec, const Tensor& x, const Pad2d& p, const Tensor& dst);
Tensor pad2d(vk::Recorder& rec, const Tensor& x, const Pad2d& p);

}  // namespace vkf::ops
