// Batched matrix multiply and Linear on the register-blocked GEMM kernel (shaders/matmul.comp).
// f32 or f16 storage (all operands the same dtype), fp32 accumulation. Bindings bigger than the device's
// maxStorageBufferRange are split over batches / rows automatically; a per-batch B larger than one binding
// is split over N (trans_b: rows of B = columns of C) or over K (B [K, N]: partial products accumulated
// into C). Limit: one row of B (K values if trans_b, else N) must fit one binding.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// CPU reference (double accumulation). a: batch*M*K; b: (b_shared ? 1 : batch) * K*N, laid out [K,N], or
// [N,K] when trans_b; bias: N values or empty. Returns batch*M*N.
std::vector<float> matmul_ref(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& bias,
                              int64_t batch, int64_t M, int64_t N, int64_t K, bool trans_b, bool b_shared);

// c[..., M, N] = a[..., M, K] @ b (+ bias[N]). b is [K, N] ([N, K] if trans_b) shared by every batch, or has
// a's leading (batch) dims: [..., K, N] / [..., N, K]. c must not alias a or b.
void matmul(vk::Recorder& rec, const Tensor& c, const Tensor& a, const Tensor& b, const Tensor* bias = nullptr,
            bool trans_b = false);
Tensor matmul(vk::Recorder& rec, const Tensor& a, const Tensor& b, const Tensor* bias = nullptr, bool trans_b = false);

// torch.nn.functional.linear: y[..., N] = x[..., K] @ w[N, K]^T + bias[N].
void linear(vk::Recorder& rec, const Tensor& y, const Tensor& x, const Tensor& w, const Tensor* bias = nullptr);
Tensor linear(vk::Recorder& rec, const Tensor& x, const Tensor& w, const Tensor* bias = nullptr);

}  // namespace vkf::ops
