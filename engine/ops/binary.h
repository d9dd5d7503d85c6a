// Element-wise binary ops with NumPy broadcasting (shapes up to 5-D, right-aligned). fp32 arithmetic;
// a, b and the output share one dtype (F32 or F16). Tensors larger than maxStorageBufferRange are
// processed in chunked dispatches.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

enum class BinaryOp : uint32_t { Add = 0, Sub = 1, Mul = 2, Div = 3 };
const char* binary_op_name(BinaryOp op);

// Broadcast result shape; throws std::invalid_argument naming both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");

// CPU reference (row-major data of shapes sa, sb).
std::vector<float> binary_ref(BinaryOp op, const std::vector<float>& a, const Shape& sa, const std::vector<float>& b,
                              const Shape& sb);

// dst must have the broadcast shape; it may alias `a` or `b` when that operand already has the output shape.
void binary(vk::Recorder& rec, BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst);
Tensor binary(vk::Recorder& rec, BinaryOp op, const Tensor& a, const Tensor& b);

inline Tensor add(vk::Recorder& rec, const Tensor& a, const Tensor& b) { return binary(rec, BinaryOp::Add, a, b); }
inline Tensor sub(vk::Recorder& rec, const Tensor& a, const Tensor& b) { return binary(rec, BinaryOp::Sub, a, b); }
inline Tensor mul(vk::Recorder& rec, const Tensor& a, const Tensor& b) { return binary(rec, BinaryOp::Mul, a, b); }
inline Tensor div(vk::Recorder& rec, const Tensor& a, const Tensor& b) { return binary(rec, BinaryOp::Div, a, b); }

}  // namespace vkf::ops
