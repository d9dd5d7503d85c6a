#include "engine/ops/latent_interpolate.h"

#include <cmath>

#include "engine/ops/op_common.h"

namespace vkf::ops {

std::vector<float> latent_interpolate_ref(const std::vector<float>& a, const std::vector<float>& b, int64_t N, int64_t C,
                                          int64_t HW, float ratio) {
  std::vector<float> o(a.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t px = 0; px < HW; ++px) {
      auto at = [&](const std::vector<float>& v, int64_t c) { return v[size_t((n * C + c) * HW + px)]; };
      double ma = 0, mb = 0;
      for (int64_t c = 0; c < C; ++c) ma += double(at(a, c)) * at(a, c), mb += double(at(b, c)) * at(b, c);
      ma = std::sqrt(ma);
      mb = std::sqrt(mb);
      std::vector<double> t(static_cast<size_t>(C));
      double mt = 0;
      for (int64_t c = 0; c < C; ++c) {
        t[size_t(c)] = (ma > 0 ? at(a, c) / ma : 0) * ratio + (mb > 0 ? at(b, c) / mb : 0) * (1.0 - ratio);
        mt += t[size_t(c)] * t[size_t(c)];
      }
      mt = std::sqrt(mt);
      for (int64_t c = 0; c < C; ++c)
        o[size_t((n * C + c) * HW + px)] = float((mt > 0 ? t[size_t(c)] / mt : 0) * (ma * ratio + mb * (1.0 - ratio)));
    }
  return o;
}

Tensor latent_interpolate(vk::Recorder& rec, const Tensor& a, const Tensor& b, float ratio) {
  require(a.rank() == 4 && a.dtype() == DType::F32, "latent_interpolate: expected f32 NCHW, got " + shape_str(a.shape()));
  require_same_shape(a, b, "LatentInterpolate");
  Tensor o = empty(rec.context(), a.shape(), DType::F32);
  struct {
    uint32_t N, C, HW;
    float ratio;
  } p{uint32_t(a.dim(0)), uint32_t(a.dim(1)), uint32_t(a.dim(2) * a.dim(3)), ratio};
  auto g = grid_1d(uint64_t(a.dim(0) * a.dim(2) * a.dim(3)), 64);
  rec.dispatch({"latent_interpolate", 3, sizeof p, {{0, 64}}}, {in(a), in(b), out(o)}, &p, sizeof p, g.x, g.y, 1,
               "latent_interpolate");
  return o;
}

}  // namespace vkf::ops
