// Multi-head scaled dot-product attention, softmax(scale * Q K^T [+ causal mask]) V, computed flash-attention
// style (online softmax, fp32 accumulation) so the Lq x Lkv score matrix never exists in memory.
//
// Layouts (per tensor, chosen by rank):
//   3-D [B, L, H*D]  heads fused in the last dim as (h d): head h owns columns h*D .. h*D+D-1
//                    (the SD convention `b n (h d) -> (b h) n d`);
//   4-D [B, H, L, D] separate heads.
// q, k, v and the output may mix layouts; the allocating overload returns the fused [B, Lq, H*D].
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct AttentionParams {
  int64_t heads = 1;    // H; must divide the last dim of 3-D tensors (4-D tensors must agree)
  float scale = 0.0f;   // 0: head_dim^-0.5 (SD VAE mid attention passes C^-0.5 with heads = 1)
  bool causal = false;  // query i attends keys j <= i (CLIP text encoder)
};

// Shapes of one attention problem with element strides (batch, head, row) for each of q, k, v, out.
struct AttentionShape {
  int64_t batch = 1, heads = 1, lq = 1, lkv = 1, dim = 1;
  struct Strides {
    int64_t b = 0, h = 0, l = 0;
  } q, k, v, o;
};

// Describes a tensor of the given role as fused [B, L, H*D] (3-D) or separate [B, H, L, D] (4-D).
// Throws std::invalid_argument naming `what` on a bad rank / indivisible head count.
struct AttentionView {
  int64_t batch, heads, len, dim;
  AttentionShape::Strides strides;
};
AttentionView attention_view(const Shape& s, int64_t heads, const char* what);

// CPU reference: plain loops, double-precision softmax. Inputs/outputs are host copies laid out as
// described by `sh` (same strides as on the device).
std::vector<float> attention_ref(const AttentionShape& sh, const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, float scale, bool causal);

// Records dst = attention(q, k, v). All tensors share one dtype (F32 or F16).
void attention(vk::Recorder& rec, const Tensor& dst, const Tensor& q, const Tensor& k, const Tensor& v,
               const AttentionParams& p);
// Convenience: allocates the output as fused [B, Lq, H*D].
Tensor attention(vk::Recorder& rec, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p);

}  // namespace vkf::ops
