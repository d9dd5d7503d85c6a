#include "engine/ops/embed.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace vkf::ops {

void check_ids(std::span<const int32_t> ids, int64_t vocab, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::invalid_argument(std::string(what) + ": token id " + std::to_string(ids[i]) + " at position " +
                                  std::to_string(i) + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
}

std::vector<float> embedding_ref(const std::vector<int32_t>& ids, const std::vector<float>& table, int64_t dim) {
  std::vector<float> y;
  y.reserve(ids.size() * size_t(dim));
  for (int32_t id : ids) y.insert(y.end(), table.begin() + long(id) * dim, table.begin() + long(id + 1) * dim);
  return y;
}

std::vector<float> timestep_embedding_ref(const std::vector<float>& t, int dim, float max_period) {
  const int half = dim / 2;
  // torch: exp(-math.log(max_period) * arange(half, dtype=float32) / half), each step rounded to fp32.
  const float c = float(-std::log(double(max_period)));
  std::vector<float> freqs(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) freqs[size_t(i)] = float(std::exp(double((c * float(i)) / float(half))));
  std::vector<float> y(t.size() * size_t(dim), 0.0f);
  for (size_t b = 0; b < t.size(); ++b)
    for (int i = 0; i < half; ++i) {
      double a = double(t[b] * freqs[size_t(i)]);  // fp32 product, as torch
      y[b * size_t(dim) + size_t(i)] = float(std::cos(a));
      y[b * size_t(dim) + size_t(half + i)] = float(std::sin(a));
    }
  return y;
}

}  // namespace vkf::ops
