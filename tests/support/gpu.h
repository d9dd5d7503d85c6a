// Shared test fixtures: one Vulkan context per test process (validation layers on via VKFLOW_VALIDATE,
// set by ctest), seeded random data, and comparison helpers.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/vk/context.h"

namespace vkf::test {

vk::Context& gpu();
bool gpu_created();

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float x : a) m = std::max(m, std::fabs(x));
  return m;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    float d = std::fabs(a[i] - b[i]);
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

// Relative error max|a-b| / max(1e-30, max|b|).
inline float rel_err(const std::vector<float>& a, const std::vector<float>& ref) {
  return max_abs_diff(a, ref) / std::max(1e-30f, max_abs(ref));
}

}  // namespace vkf::test
