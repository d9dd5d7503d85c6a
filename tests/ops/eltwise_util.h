// Helpers shared by the element-wise / normalisation / movement op tests.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "engine/ops/chunk.h"
#include "engine/tensor/tensor.h"
#include "tests/support/gpu.h"

namespace vkf::test {

// Values as F16 storage holds them (inputs of an f16 run, so the reference sees the same data).
inline std::vector<float> f16_round(std::vector<float> v) {
  for (auto& x : v) x = half_bits_to_float(float_to_half_bits(x));
  return v;
}

inline std::vector<DType> float_dtypes() {
  std::vector<DType> d{DType::F32};
  if (gpu().info().fp16_storage) d.push_back(DType::F16);
  return d;
}

// Random shape of `rank` dims in [1, max_dim].
inline Shape random_shape(std::mt19937& rng, int rank, int max_dim) {
  Shape s(static_cast<size_t>(rank));
  for (auto& d : s) d = std::uniform_int_distribution<int>(1, max_dim)(rng);
  return s;
}

// Caps the binding range for the lifetime of the object so small tensors cross chunk boundaries.
struct BindingCap {
  explicit BindingCap(uint64_t bytes) { ops::set_binding_limit_cap(bytes); }
  ~BindingCap() { ops::set_binding_limit_cap(0); }
  BindingCap(const BindingCap&) = delete;
  BindingCap& operator=(const BindingCap&) = delete;
};

}  // namespace vkf::test
