// Row-statistics ops sharing one shader (fp32 Welford, one workgroup per row): GroupNorm, LayerNorm and
// mean / variance over the last axis. Storage F32 or F16 (weight/bias share x's dtype); tensors over
// maxStorageBufferRange are processed in row chunks. Limit: one row (one GroupNorm group, C/groups channels
// x H*W; one LayerNorm / mean / variance vector) must fit one binding, else std::invalid_argument.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct GroupNormParams {
  int groups = 32;
  float eps = 1e-5f;
  bool silu = false;  // fused SiLU after the affine transform (GroupNorm -> SiLU blocks)
};

// x: [N, C, ...spatial] (rank >= 2). weight/bias: [C] or empty (no affine); both or neither.
std::vector<float> group_norm_ref(const std::vector<float>& x, const Shape& shape, const std::vector<float>& weight,
                                  const std::vector<float>& bias, const GroupNormParams& p);
void group_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, const GroupNormParams& p,
                const Tensor& dst);
// weight/bias may be default-constructed (undefined) Tensors for no affine.
Tensor group_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const GroupNormParams& p);

// Over the last axis of length D; weight/bias [D] or empty/undefined.
std::vector<float> layer_norm_ref(const std::vector<float>& x, int64_t d, const std::vector<float>& weight,
                                  const std::vector<float>& bias, float eps);
void layer_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                const Tensor& dst);
Tensor layer_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// Reductions over the last axis, keepdim: [..., D] -> [..., 1]. variance divides by D - 1 when unbiased
// (torch.var default) else by D.
std::vector<float> mean_ref(const std::vector<float>& x, int64_t d);
std::vector<float> variance_ref(const std::vector<float>& x, int64_t d, bool unbiased);
Tensor mean(vk::Recorder& rec, const Tensor& x);
Tensor variance(vk::Recorder& rec, const Tensor& x, bool unbiased);

}  // namespace vkf::ops
