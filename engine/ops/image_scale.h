// Image resize for IMAGE tensors [B,H,W,C] (f32), ComfyUI's common_upscale semantics (torch.interpolate,
// align_corners=False) with optional centre crop to the target aspect ratio. Chunked over whole images,
// or over bands of output rows when one image exceeds a storage-buffer binding.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

enum class ScaleMode : uint32_t { NearestExact = 0, Bilinear = 1, Bicubic = 2, Area = 3 };
ScaleMode parse_scale_mode(const std::string& name);  // "nearest-exact", "bilinear", "bicubic", "area"
const std::vector<std::string>& scale_mode_names();

struct CropWindow {
  int64_t x0 = 0, y0 = 0, w = 0, h = 0;
};
// ComfyUI's crop="center": the largest centred window of the target aspect ratio.
CropWindow center_crop(int64_t H, int64_t W, int64_t OH, int64_t OW);

std::vector<float> image_scale_ref(const std::vector<float>& src, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH,
                                   int64_t OW, ScaleMode mode, CropWindow crop);
Tensor image_scale(vk::Recorder& rec, const Tensor& src, int64_t OH, int64_t OW, ScaleMode mode, bool center = false);

}  // namespace vkf::ops
