#include "engine/models/nn.h"

#include "engine/ops/attention.h"
#include "engine/ops/binary.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/embed.h"
#include "engine/ops/matmul.h"
#include "engine/ops/movement.h"
#include "engine/ops/norm.h"
#include "engine/ops/unary.h"

namespace vkf::models::nn {

Tensor linear(Rec& r, const Tensor& x, const Bound& p) { return ops::linear(r, x, *p.weight, p.bias); }

Tensor conv(Rec& r, const Tensor& x, const Bound& p, int stride, Pad pad) {
  return ops::conv2d(r, x, *p.weight, p.bias, ops::Conv2dParams{stride, pad.l, pad.r, pad.t, pad.b});
}

Tensor conv_same(Rec& r, const Tensor& x, const Bound& p) {
  const int k = int(p.weight->dim(3));
  return conv(r, x, p, 1, {k / 2, k / 2, k / 2, k / 2});
}

Tensor group_norm(Rec& r, const Tensor& x, const Bound& p, float eps, bool silu, int groups) {
  return ops::group_norm(r, x, *p.weight, *p.bias, ops::GroupNormParams{groups, eps, silu});
}

Tensor layer_norm(Rec& r, const Tensor& x, const Bound& p, float eps) {
  return ops::layer_norm(r, x, *p.weight, *p.bias, eps);
}

Tensor silu(Rec& r, const Tensor& x) { return ops::silu(r, x); }
Tensor gelu(Rec& r, const Tensor& x) { return ops::gelu(r, x); }
Tensor quick_gelu(Rec& r, const Tensor& x) { return ops::quick_gelu(r, x); }
Tensor geglu(Rec& r, const Tensor& x) { return ops::geglu(r, x); }
Tensor add(Rec& r, const Tensor& a, const Tensor& b) { return ops::add(r, a, b); }
Tensor upsample2x(Rec& r, const Tensor& x) { return ops::upsample_nearest2x(r, x); }
Tensor concat_channels(Rec& r, const Tensor& a, const Tensor& b) { return ops::concat(r, {&a, &b}, 1); }

Tensor nchw_to_nlc(Rec& r, const Tensor& x) {
  Tensor p = ops::permute(r, x, {0, 2, 3, 1});  // [N,H,W,C]
  return p.reshape({x.dim(0), x.dim(2) * x.dim(3), x.dim(1)});
}

Tensor nlc_to_nchw(Rec& r, const Tensor& x, int64_t h, int64_t w) {
  Tensor v = x.reshape({x.dim(0), h, w, x.dim(2)});
  return ops::permute(r, v, {0, 3, 1, 2});
}

Tensor attention(Rec& r, const Tensor& q, const Tensor& k, const Tensor& v, int heads, bool causal, float scale) {
  return ops::attention(r, q, k, v, ops::AttentionParams{heads, scale, causal});
}

Tensor timestep_embedding(Rec& r, const Tensor& t, int dim) { return ops::timestep_embedding(r, t, dim, DType::F32); }
Tensor embedding(Rec& r, const Tensor& ids, const Tensor& table) { return ops::embedding(r, ids, table); }
Tensor slice_channels(Rec& r, const Tensor& x, int64_t begin, int64_t end) { return ops::narrow(r, x, 1, begin, end - begin); }
Tensor clamp(Rec& r, const Tensor& x, float lo, float hi) { return ops::clamp(r, x, lo, hi); }
Tensor cast(Rec& r, const Tensor& x, DType to) { return ops::cast(r, x, to); }

}  // namespace vkf::models::nn
