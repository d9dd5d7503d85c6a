#include "engine/models/sdxl_conditioner.h"

#include <stdexcept>

#include "engine/models/nn.h"
#include "engine/ops/movement.h"
#include "engine/vk/context.h"

namespace vkf::models {

Tensor sdxl_crossattn(vk::Recorder& rec, const Tensor* clip_l_hidden, const Tensor& clip_g_penultimate) {
  if (!clip_l_hidden) return clip_g_penultimate;
  const Tensor& l = *clip_l_hidden;
  const Tensor& g = clip_g_penultimate;
  if (l.rank() != 3 || g.rank() != 3 || l.dim(0) != g.dim(0) || l.dim(1) != g.dim(1))
    throw std::invalid_argument("SDXL conditioner: CLIP-L " + shape_str(l.shape()) + " and OpenCLIP-G " +
                                shape_str(g.shape()) + " hidden states do not line up");
  return ops::concat(rec, {&l, &g}, 2);
}

Tensor sdxl_vector(vk::Recorder& rec, const Tensor& pooled, const std::vector<float>& scalars) {
  const int64_t B = pooled.dim(0);
  if (pooled.rank() != 2 || scalars.empty() || int64_t(scalars.size()) % B != 0)
    throw std::invalid_argument("SDXL conditioner: " + std::to_string(scalars.size()) + " size values for pooled " +
                                shape_str(pooled.shape()));
  const int64_t n = int64_t(scalars.size()) / B;
  Tensor t = from_host(rec.context(), {B * n}, scalars, DType::F32);
  Tensor e = nn::timestep_embedding(rec, t, kSdxlSizeEmbedDim).reshape({B, n * kSdxlSizeEmbedDim});
  if (pooled.dtype() != DType::F32) e = nn::cast(rec, e, pooled.dtype());
  return ops::concat(rec, {&pooled, &e}, 1);
}

}  // namespace vkf::models
