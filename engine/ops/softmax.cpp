#include "engine/ops/softmax.h"

#include <algorithm>
#include <cmath>

namespace vkf::ops {

std::vector<float> softmax_ref(const std::vector<float>& x, int64_t row_len) {
  std::vector<float> y(x.size());
  const size_t d = size_t(row_len);
  for (size_t r = 0; r < x.size() / d; ++r) {
    const float* v = x.data() + r * d;
    double m = *std::max_element(v, v + d), s = 0;
    for (size_t j = 0; j < d; ++j) s += std::exp(double(v[j]) - m);
    for (size_t j = 0; j < d; ++j) y[r * d + j] = float(std::exp(double(v[j]) - m) / s);
  }
  return y;
}

}  // namespace vkf::ops
