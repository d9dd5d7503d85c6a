#include "engine/ops/latent_interpolate.h"

#include <cmath>

#include "engine/ops/chunk.h"
#include "engine/ops/movement.h"
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

namespace {
// a, b, o viewed as [N, C, HW]: whole images per dispatch, as many as one binding holds.
void record_interpolate(vk::Recorder& rec, const Tensor& a, const Tensor& b, const Tensor& o, uint64_t N, uint64_t C,
                        uint64_t HW, float ratio) {
  auto& ctx = rec.context();
  struct {
    uint32_t N, C, HW;
    float ratio;
    uint32_t first_a, first_b, first_o;
  } p{};
  vk::PipelineDesc d{"latent_interpolate", 3, sizeof p, {{0, 64}}};
  for_each_chunk(ctx, N, C * HW * 4, "latent_interpolate", [&](uint64_t n0, uint64_t nn) {
    BoundRange ra = bind_elems(ctx, a, n0 * C * HW, nn * C * HW, false);
    BoundRange rb = bind_elems(ctx, b, n0 * C * HW, nn * C * HW, false);
    BoundRange ro = bind_elems(ctx, o, n0 * C * HW, nn * C * HW, true);
    p = {uint32_t(nn), uint32_t(C), uint32_t(HW), ratio, ra.first, rb.first, ro.first};
    auto g = grid_1d(nn * HW, 64);
    rec.dispatch(d, {ra.arg, rb.arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "latent_interpolate");
  });
}
}  // namespace

Tensor latent_interpolate(vk::Recorder& rec, const Tensor& a, const Tensor& b, float ratio) {
  require(a.rank() == 4 && a.dtype() == DType::F32, "latent_interpolate: expected f32 NCHW, got " + shape_str(a.shape()));
  require_same_shape(a, b, "LatentInterpolate");
  require(b.dtype() == DType::F32, "latent_interpolate: b must be f32");
  Tensor o = empty(rec.context(), a.shape(), DType::F32);
  if (o.numel() == 0) return o;
  const uint64_t N = uint64_t(a.dim(0)), C = uint64_t(a.dim(1)), HW = uint64_t(a.dim(2) * a.dim(3));
  if (fits_binding(rec.context(), C * HW * 4)) {
    record_interpolate(rec, a, b, o, N, C, HW, ratio);
    return o;
  }
  // One image exceeds a binding: a pixel's channels are HW apart in NCHW, so go through NHWC (permute
  // chunks itself), where each pixel's channels are contiguous and pixels chunk freely.
  Tensor an = permute(rec, a, {0, 2, 3, 1}), bn = permute(rec, b, {0, 2, 3, 1});
  Tensor on = empty(rec.context(), an.shape(), DType::F32);
  record_interpolate(rec, an, bn, on, N * HW, C, 1, ratio);
  permute(rec, on, {0, 3, 1, 2}, o);
  return o;
}

}  // namespace vkf::ops
