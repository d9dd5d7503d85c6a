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

namespace vkf::models {

std::vector<float> sdxl_size_values(const std::string& family, const SizeCond& s, double default_w, double default_h,
                                    bool negative) {
  const double w = s.width.value_or(default_w), h = s.height.value_or(default_h);
  std::vector<double> v = {h, w, s.crop_h.value_or(0.0), s.crop_w.value_or(0.0)};
  if (family == "sdxl_refiner") {
    v.push_back(s.aesthetic_score.value_or(negative ? 2.5 : 6.0));
  } else if (family == "sdxl") {
    v.push_back(s.target_height.value_or(h));
    v.push_back(s.target_width.value_or(w));
  } else {
    throw std::invalid_argument("size conditioning: " + family + " models have no vector input");
  }
  return std::vector<float>(v.begin(), v.end());
}

Tensor sdxl_adm(vk::Recorder& rec, const std::string& family, const Tensor& pooled, const SizeCond& s, double default_w,
                double default_h, bool negative) {
  const auto vals = sdxl_size_values(family, s, default_w, default_h, negative);
  std::vector<float> scalars;
  for (int64_t b = 0; b < pooled.dim(0); ++b) scalars.insert(scalars.end(), vals.begin(), vals.end());
  return sdxl_vector(rec, pooled, scalars);
}

}  // namespace vkf::models
