#include "engine/ops/movement.h"

#include <stdexcept>

namespace vkf::ops {

std::vector<float> upsample_nearest2x_ref(const std::vector<float>& x, const Shape& shape) {
  const size_t h = size_t(shape[shape.size() - 2]), w = size_t(shape.back()), planes = x.size() / (h * w);
  std::vector<float> y(x.size() * 4);
  for (size_t p = 0; p < planes; ++p)
    for (size_t oy = 0; oy < 2 * h; ++oy)
      for (size_t ox = 0; ox < 2 * w; ++ox) y[(p * 2 * h + oy) * 2 * w + ox] = x[(p * h + oy / 2) * w + ox / 2];
  return y;
}

std::vector<float> concat_ref(const std::vector<std::vector<float>>& parts, const std::vector<Shape>& shapes, int axis) {
  const size_t ax = size_t(axis < 0 ? axis + int(shapes[0].size()) : axis);
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < ax; ++i) outer *= size_t(shapes[0][i]);
  for (size_t i = ax + 1; i < shapes[0].size(); ++i) inner *= size_t(shapes[0][i]);
  std::vector<float> y;
  for (size_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < parts.size(); ++k) {
      size_t len = size_t(shapes[k][ax]) * inner;
      y.insert(y.end(), parts[k].begin() + long(o * len), parts[k].begin() + long((o + 1) * len));
    }
  return y;
}

std::vector<float> permute_ref(const std::vector<float>& x, const Shape& shape, const std::vector<int>& perm) {
  const size_t r = shape.size();
  std::vector<size_t> st(r, 1), os(r);
  for (size_t i = r; i-- > 1;) st[i - 1] = st[i] * size_t(shape[i]);
  for (size_t i = 0; i < r; ++i) os[i] = size_t(shape[size_t(perm[i])]);
  std::vector<float> y(x.size());
  std::vector<size_t> c(r, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t j = 0;
    for (size_t d = 0; d < r; ++d) j += c[d] * st[size_t(perm[d])];
    y[i] = x[j];
    for (size_t d = r; d-- > 0;) {
      if (++c[d] < os[d]) break;
      c[d] = 0;
    }
  }
  return y;
}

std::vector<float> pad2d_ref(const std::vector<float>& x, const Shape& shape, const Pad2d& p) {
  const int64_t h = shape[shape.size() - 2], w = shape.back();
  const int64_t ho = h + p.top + p.bottom, wo = w + p.left + p.right;
  const size_t planes = x.size() / size_t(h * w);
  std::vector<float> y(planes * size_t(ho * wo), p.value);
  for (size_t pl = 0; pl < planes; ++pl)
    for (int64_t oy = 0; oy < ho; ++oy)
      for (int64_t ox = 0; ox < wo; ++ox) {
        int64_t iy = oy - p.top, ix = ox - p.left;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
          y[pl * size_t(ho * wo) + size_t(oy * wo + ox)] = x[pl * size_t(h * w) + size_t(iy * w + ix)];
      }
  return y;
}

}  // namespace vkf::ops
