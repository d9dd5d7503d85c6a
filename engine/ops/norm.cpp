#include "engine/ops/norm.h"

#include <cmath>

namespace vkf::ops {

namespace {
// Mean and population variance of n values (double precision: the reference is the exact answer).
void stats(const float* v, size_t n, double& mean, double& var) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += v[i];
  mean = n ? s / double(n) : 0;
  double q = 0;
  for (size_t i = 0; i < n; ++i) q += (v[i] - mean) * (v[i] - mean);
  var = n ? q / double(n) : 0;
}
}  // namespace

std::vector<float> group_norm_ref(const std::vector<float>& x, const Shape& shape, const std::vector<float>& weight,
                                  const std::vector<float>& bias, const GroupNormParams& p) {
  const size_t n = size_t(shape[0]), c = size_t(shape[1]), g = size_t(p.groups);
  const size_t inner = x.size() / (n * c), cpg = c / g, len = cpg * inner;
  std::vector<float> y(x.size());
  for (size_t row = 0; row < n * g; ++row) {
    const float* v = x.data() + row * len;
    double mean, var;
    stats(v, len, mean, var);
    double inv = 1.0 / std::sqrt(var + double(p.eps));
    for (size_t j = 0; j < len; ++j) {
      double r = (v[j] - mean) * inv;
      size_t ch = (row % g) * cpg + j / inner;
      if (!weight.empty()) r = r * weight[ch] + bias[ch];
      if (p.silu) r = r / (1.0 + std::exp(-r));
      y[row * len + j] = float(r);
    }
  }
  return y;
}

std::vector<float> layer_norm_ref(const std::vector<float>& x, int64_t d, const std::vector<float>& weight,
                                  const std::vector<float>& bias, float eps) {
  std::vector<float> y(x.size());
  for (size_t row = 0; row < x.size() / size_t(d); ++row) {
    const float* v = x.data() + row * size_t(d);
    double mean, var;
    stats(v, size_t(d), mean, var);
    double inv = 1.0 / std::sqrt(var + double(eps));
    for (size_t j = 0; j < size_t(d); ++j) {
      double r = (v[j] - mean) * inv;
      if (!weight.empty()) r = r * weight[j] + bias[j];
      y[row * size_t(d) + j] = float(r);
    }
  }
  return y;
}

std::vector<float> mean_ref(const std::vector<float>& x, int64_t d) {
  std::vector<float> y(x.size() / size_t(d));
  for (size_t r = 0; r < y.size(); ++r) {
    double m, v;
    stats(x.data() + r * size_t(d), size_t(d), m, v);
    y[r] = float(m);
  }
  return y;
}

std::vector<float> variance_ref(const std::vector<float>& x, int64_t d, bool unbiased) {
  std::vector<float> y(x.size() / size_t(d));
  for (size_t r = 0; r < y.size(); ++r) {
    double m, v;
    stats(x.data() + r * size_t(d), size_t(d), m, v);
    y[r] = float(unbiased ? v * double(d) / double(d - 1) : v);
  }
  return y;
}

}  // namespace vkf::ops
