// Layer-level building blocks shared by the CLIP, UNet and VAE code: each takes the recorder, the
// input and the weight scope named like the checkpoint, and records the ops (no submit).
#pragma once
#include "engine/models/weights.h"
#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::models::nn {

using Rec = vk::Recorder;

// Over parameters bound at load (weights.h's Bound): x [..., K] · W[N,K]^T (+ b) -> [..., N].
Tensor linear(Rec& r, const Tensor& x, const Bound& p);  // bias when p.bias
// NCHW conv with weight [Cout,Cin,k,k]; pad = (left,right,top,bottom).
struct Pad {
  int l, r, t, b;
};
Tensor conv(Rec& r, const Tensor& x, const Bound& p, int stride, Pad pad);
Tensor conv_same(Rec& r, const Tensor& x, const Bound& p);  // stride 1, pad k/2
Tensor group_norm(Rec& r, const Tensor& x, const Bound& p, float eps, bool silu, int groups = 32);
Tensor layer_norm(Rec& r, const Tensor& x, const Bound& p, float eps);
Tensor silu(Rec& r, const Tensor& x);
Tensor quick_gelu(Rec& r, const Tensor& x);
Tensor gelu(Rec& r, const Tensor& x);  // exact erf GELU
Tensor geglu(Rec& r, const Tensor& x);  // [..., 2N] -> value * gelu(gate)
Tensor add(Rec& r, const Tensor& a, const Tensor& b);  // NumPy broadcasting
Tensor upsample2x(Rec& r, const Tensor& x);
Tensor concat_channels(Rec& r, const Tensor& a, const Tensor& b);  // cat([a, b], dim=1)
Tensor nchw_to_nlc(Rec& r, const Tensor& x);                        // [N,C,H,W] -> [N,H*W,C]
Tensor nlc_to_nchw(Rec& r, const Tensor& x, int64_t h, int64_t w);  // [N,H*W,C] -> [N,C,H,W]
// Multi-head attention, heads fused in the last dim as (h d); q [B,Lq,H*D], k/v [B,Lk,H*D].
Tensor attention(Rec& r, const Tensor& q, const Tensor& k, const Tensor& v, int heads, bool causal, float scale);
Tensor timestep_embedding(Rec& r, const Tensor& t, int dim);  // t [B] f32 -> [B,dim]
Tensor embedding(Rec& r, const Tensor& ids, const Tensor& table);  // ids I32 [B,T] -> [B,T,D]
Tensor slice_channels(Rec& r, const Tensor& x, int64_t begin, int64_t end);  // NCHW channel range
Tensor clamp(Rec& r, const Tensor& x, float lo, float hi);
Tensor cast(Rec& r, const Tensor& x, DType to);

}  // namespace vkf::models::nn
