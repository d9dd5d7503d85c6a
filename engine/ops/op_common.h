// Shared helpers for ops' host side: binding tensors, dispatch grids, dtype -> shader variant names.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

inline vk::BufferArg in(const Tensor& t) { return {&t.buffer(), t.offset(), t.bytes(), false}; }
inline vk::BufferArg out(const Tensor& t) { return {&t.buffer(), t.offset(), t.bytes(), true}; }

// Workgroups for n invocations of `local` threads: x up to 65535, overflow into y (see linear_id()).
struct Grid {
  uint32_t x = 1, y = 1;
};
inline Grid grid_1d(uint64_t n, uint32_t local) {
  uint64_t groups = (n + local - 1) / local;
  if (groups == 0) return {0, 1};
  if (groups <= 65535) return {uint32_t(groups), 1};
  uint64_t y = (groups + 65534) / 65535;
  return {uint32_t((groups + y - 1) / y), uint32_t(y)};
}

// Shader name for a storage dtype: "<base>" for f32, "<base>_f16" for f16.
inline std::string variant(const std::string& base, DType d) {
  if (d == DType::F32) return base;
  if (d == DType::F16) return base + "_f16";
  throw std::invalid_argument(base + ": unsupported dtype " + dtype_name(d));
}

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

inline void require_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape())
    throw std::invalid_argument(std::string(op) + ": shape mismatch " + shape_str(a.shape()) + " vs " + shape_str(b.shape()));
}

}  // namespace vkf::ops
