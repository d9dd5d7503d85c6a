// Tolerance of GEMM-based ops (matmul, linear, conv2d) against their double-precision CPU references.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/tensor/tensor.h"

namespace vkf::test {

// f32: the GPU sums K products in fp32 in a different order than the double reference; rounding error of
// such a sum grows like u*sqrt(K)*|terms| (u = 6e-8) for random-sign data, so 1e-6*sqrt(K) relative to the
// largest output leaves a >10x margin. f16: the reference uses the same f16-rounded inputs and the kernel
// accumulates in fp32, so only the f16 rounding of the output remains (2^-11 relative) -> 2e-3.
inline float gemm_tolerance(DType dt, int64_t K) {
  return dt == DType::F32 ? 1e-6f * std::sqrt(float(K) + 1.0f) + 1e-6f : 2e-3f;
}

}  // namespace vkf::test
