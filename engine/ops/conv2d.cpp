#include "engine/ops/conv2d.h"

#include <stdexcept>

namespace vkf::ops {

Shape conv2d_out_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("conv2d(x " + shape_str(x) + ", w " + shape_str(w) + "): " + why);
  };
  if (x.size() != 4 || w.size() != 4) throw bad("x must be [B, C, H, W] and w [Cout, Cin, kh, kw]");
  if (x[1] != w[1]) throw bad("input channels differ (groups=1 only)");
  if (p.stride < 1 || p.pad_left < 0 || p.pad_right < 0 || p.pad_top < 0 || p.pad_bottom < 0)
    throw bad("stride must be >= 1 and paddings >= 0");
  int64_t hp = x[2] + p.pad_top + p.pad_bottom, wp = x[3] + p.pad_left + p.pad_right;
  if (w[2] < 1 || w[3] < 1 || hp < w[2] || wp < w[3]) throw bad("kernel larger than the padded input");
  return {x[0], w[0], (hp - w[2]) / p.stride + 1, (wp - w[3]) / p.stride + 1};
}

std::vector<float> conv2d_ref(const std::vector<float>& x, const Shape& xs, const std::vector<float>& w, const Shape& ws,
                              const std::vector<float>& bias, const Conv2dParams& p) {
  Shape ys = conv2d_out_shape(xs, ws, p);
  const int64_t B = xs[0], C = xs[1], H = xs[2], W = xs[3], CO = ws[0], KH = ws[2], KW = ws[3], HO = ys[2], WO = ys[3];
  std::vector<float> y(size_t(shape_numel(ys)));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t co = 0; co < CO; ++co)
      for (int64_t oy = 0; oy < HO; ++oy)
        for (int64_t ox = 0; ox < WO; ++ox) {
          double s = bias.empty() ? 0.0 : double(bias[size_t(co)]);
          for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t ky = 0; ky < KH; ++ky) {
              int64_t iy = oy * p.stride - p.pad_top + ky;
              if (iy < 0 || iy >= H) continue;
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t ix = ox * p.stride - p.pad_left + kx;
                if (ix < 0 || ix >= W) continue;
                s += double(x[size_t(((b * C + ci) * H + iy) * W + ix)]) * double(w[size_t(((co * C + ci) * KH + ky) * KW + kx)]);
              }
            }
          y[size_t(((b * CO + co) * HO + oy) * WO + ox)] = float(s);
        }
  return y;
}

}  // namespace vkf::ops
