// Single-input element-wise ops: activations / affine scale / clamp (one shader, mode spec constant),
// GEGLU and dtype casts. fp32 arithmetic, F32 or F16 storage; chunked for tensors over
// maxStorageBufferRange. `dst` may alias `x` for the same-shape ops.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// p0/p1: Scale -> y = x*p0 + p1; Clamp -> y = min(max(x, p0), p1); unused otherwise.
enum class UnaryOp : uint32_t { Scale = 0, SiLU = 1, GELU = 2, QuickGELU = 3, Sigmoid = 4, Clamp = 5 };
const char* unary_op_name(UnaryOp op);

// CPU references (double-precision internals, std::erf for GELU).
float unary_ref(UnaryOp op, float x, float p0 = 0.0f, float p1 = 0.0f);
std::vector<float> unary_ref(UnaryOp op, const std::vector<float>& x, float p0 = 0.0f, float p1 = 0.0f);
// x: rows of 2n (value = first n, gate = last n) -> rows of n: value * gelu(gate).
std::vector<float> geglu_ref(const std::vector<float>& x, int64_t n);

void unary(vk::Recorder& rec, UnaryOp op, const Tensor& x, const Tensor& dst, float p0 = 0.0f, float p1 = 0.0f);
Tensor unary(vk::Recorder& rec, UnaryOp op, const Tensor& x, float p0 = 0.0f, float p1 = 0.0f);

inline Tensor silu(vk::Recorder& rec, const Tensor& x) { return unary(rec, UnaryOp::SiLU, x); }
inline Tensor gelu(vk::Recorder& rec, const Tensor& x) { return unary(rec, UnaryOp::GELU, x); }
inline Tensor quick_gelu(vk::Recorder& rec, const Tensor& x) { return unary(rec, UnaryOp::QuickGELU, x); }
inline Tensor sigmoid(vk::Recorder& rec, const Tensor& x) { return unary(rec, UnaryOp::Sigmoid, x); }
inline Tensor clamp(vk::Recorder& rec, const Tensor& x, float lo, float hi) {
  return unary(rec, UnaryOp::Clamp, x, lo, hi);
}
// y = x * a + b
inline Tensor scale(vk::Recorder& rec, const Tensor& x, float a, float b = 0.0f) {
  return unary(rec, UnaryOp::Scale, x, a, b);
}

// x [..., 2N] -> dst [..., N].
void geglu(vk::Recorder& rec, const Tensor& x, const Tensor& dst);
Tensor geglu(vk::Recorder& rec, const Tensor& x);

// F32 <-> F16 (same dtype: a plain copy). Rounds to nearest even.
void cast(vk::Recorder& rec, const Tensor& x, const Tensor& dst);
Tensor cast(vk::Recorder& rec, const Tensor& x, DType to);

}  // namespace vkf::ops
