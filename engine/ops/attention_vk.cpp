// Records the flash-attention kernel (shaders/attention.comp): argument checks, tile choice, batch chunking.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops/attention.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {
namespace {

struct Push {
  uint32_t heads, lq, lkv, qblocks, groups;
  uint32_t s[12];  // (batch, head, row) strides of q, k, v, out
  float scale;
};

// Tiles measured on lavapipe (vkflow bench ops / 8 heads x 4096 x 40): K/V loads are the bottleneck there
// (each non-uniform load is a per-lane loop), so a group takes as many query rows RQ as the unrolled
// head-dim code can hold: RQ * ceil(D/4) <= 80 vec4 registers of q (and as many of accumulator).
struct Tiles {
  uint32_t local, rows;
  bool big_d;  // D > 160: loops over D stay loops (`bigd` shader variants)
};
Tiles choose_tiles(const vk::Context& ctx, int64_t dim) {
  // Keys are spread over the lanes of ONE subgroup (the lanes' partial softmaxes are merged with
  // subgroup reductions): 8 lanes = lavapipe's SIMD width, and fits every GPU's subgroup.
  uint32_t local = std::clamp<uint32_t>(ctx.info().subgroup_size, 1, 8);
  if (dim > 160) return {local, 8, true};
  uint32_t d4 = uint32_t(dim + 3) / 4;
  return {local, std::clamp<uint32_t>(80 / d4, 1, 8), false};
}

void check_same(const AttentionView& a, const AttentionView& b, const char* an, const char* bn, bool len) {
  if (a.batch != b.batch || a.heads != b.heads || a.dim != b.dim || (len && a.len != b.len))
    throw std::invalid_argument(std::string("attention: ") + an + " and " + bn + " disagree (batch " +
                                std::to_string(a.batch) + "/" + std::to_string(b.batch) + ", heads " +
                                std::to_string(a.heads) + "/" + std::to_string(b.heads) + ", head dim " +
                                std::to_string(a.dim) + "/" + std::to_string(b.dim) + ", length " +
                                std::to_string(a.len) + "/" + std::to_string(b.len) + ")");
}

}  // namespace

void attention(vk::Recorder& rec, const Tensor& dst, const Tensor& q, const Tensor& k, const Tensor& v,
               const AttentionParams& p) {
  auto qv = attention_view(q.shape(), p.heads, "q"), kv = attention_view(k.shape(), p.heads, "k");
  auto vv = attention_view(v.shape(), p.heads, "v"), ov = attention_view(dst.shape(), p.heads, "out");
  check_same(qv, kv, "q", "k", false);
  check_same(kv, vv, "k", "v", true);
  check_same(qv, ov, "q", "out", true);
  for (const Tensor* t : {&k, &v, &dst})
    require(t->dtype() == q.dtype(), std::string("attention: dtype mismatch (q is ") + dtype_name(q.dtype()) +
                                         ", got " + dtype_name(t->dtype()) + ")");
  require(qv.dim >= 1 && qv.dim <= 512, "attention: head dim " + std::to_string(qv.dim) + " outside 1..512");
  require(qv.len >= 1 && kv.len >= 1, "attention: empty sequence (Lq=" + std::to_string(qv.len) +
                                          ", Lkv=" + std::to_string(kv.len) + ")");
  if (qv.batch == 0) return;

  auto& ctx = rec.context();
  Tiles t = choose_tiles(ctx, qv.dim);
  float scale = p.scale != 0.0f ? p.scale : 1.0f / std::sqrt(float(qv.dim));
  const uint32_t per_block = t.rows;
  Push push{uint32_t(qv.heads), uint32_t(qv.len), uint32_t(kv.len), uint32_t((qv.len + per_block - 1) / per_block), 0,
            {uint32_t(qv.strides.b), uint32_t(qv.strides.h), uint32_t(qv.strides.l), uint32_t(kv.strides.b),
             uint32_t(kv.strides.h), uint32_t(kv.strides.l), uint32_t(vv.strides.b), uint32_t(vv.strides.h),
             uint32_t(vv.strides.l), uint32_t(ov.strides.b), uint32_t(ov.strides.h), uint32_t(ov.strides.l)},
            scale * 1.4426950408889634f};  // exp(x) = exp2(x * log2(e))
  // vec4 K/V loads need every K/V row start on a 4-element boundary.
  bool vec4 = qv.dim % 4 == 0 && kv.strides.b % 4 == 0 && kv.strides.h % 4 == 0 && kv.strides.l % 4 == 0 &&
              vv.strides.b % 4 == 0 && vv.strides.h % 4 == 0 && vv.strides.l % 4 == 0;
  vk::PipelineDesc d{variant("attention", q.dtype()) + (t.big_d ? "_bigd" : ""), 4, sizeof(Push),
                     {{0, t.local}, {3, uint32_t(qv.dim)}, {4, t.rows}, {5, 1u}, {6, p.causal ? 1u : 0u},
                      {7, vec4 ? 4u : 1u}}};

  // Bindings are limited to maxStorageBufferRange: record whole batches per dispatch, as many as fit.
  uint64_t per_batch = 0;
  for (const Tensor* x : {&q, &k, &v, &dst}) per_batch = std::max<uint64_t>(per_batch, x->bytes() / uint64_t(qv.batch));
  uint64_t fit = ctx.info().max_storage_buffer_range / std::max<uint64_t>(per_batch, 1);
  require(fit >= 1, "attention: one batch item needs " + std::to_string(per_batch) +
                        " bytes per binding, over maxStorageBufferRange; split the heads or the sequence");
  for (int64_t b0 = 0; b0 < qv.batch; b0 += int64_t(fit)) {
    int64_t b1 = std::min<int64_t>(qv.batch, b0 + int64_t(fit));
    uint64_t groups = uint64_t(b1 - b0) * uint64_t(qv.heads) * push.qblocks;
    push.groups = uint32_t(groups);
    auto g = grid_1d(groups * t.local, t.local);
    bool whole = b0 == 0 && b1 == qv.batch;
    Tensor qs = whole ? q : q.slice0(b0, b1), ks = whole ? k : k.slice0(b0, b1);
    Tensor vs = whole ? v : v.slice0(b0, b1), os = whole ? dst : dst.slice0(b0, b1);
    rec.dispatch(d, {in(qs), in(ks), in(vs), out(os)}, &push, sizeof push, g.x, g.y, 1, "attention");
  }
}

Tensor attention(vk::Recorder& rec, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p) {
  auto qv = attention_view(q.shape(), p.heads, "q");
  Tensor o = empty(rec.context(), {qv.batch, qv.len, qv.heads * qv.dim}, q.dtype());
  attention(rec, o, q, k, v, p);
  return o;
}

}  // namespace vkf::ops
