// Records the flash-attention kernels (shaders/attention.comp, CPU: attention_rows.comp): argument checks, tile choice, batch chunking.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops/attention.h"
#include "engine/ops/chunk.h"
#include "engine/ops/kernel_family.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {
namespace {

struct Push {
  uint32_t heads, lq, lkv, qblocks, groups;
  uint32_t s[12];  // (batch, head, row) strides of q, k, v, out
  float scale;
  uint32_t q0, fq, fk, fv, fo;  // first query row of the chunk; element skips of the four bindings
};

using Strides = AttentionShape::Strides;
// Elements of a tensor a block (nb batches x nh heads x nl rows of D) spans, and where it starts.
uint64_t span(const Strides& s, int64_t nb, int64_t nh, int64_t nl, int64_t D) {
  return uint64_t((nb - 1) * s.b + (nh - 1) * s.h + (nl - 1) * s.l + D);
}
uint64_t origin(const Strides& s, int64_t b, int64_t h, int64_t l) { return uint64_t(b * s.b + h * s.h + l * s.l); }
// Largest n with span(1, .., n, ..) <= room growing one axis (stride st) from a base span; 0 if none.
int64_t fit_count(uint64_t room, uint64_t base, int64_t st, int64_t max_n) {
  if (base > room) return 0;
  if (st <= 0) return max_n;
  return std::min<int64_t>(max_n, int64_t((room - base) / uint64_t(st)) + 1);
}

// Tiles measured on lavapipe (vkflow bench ops / 8 heads x 4096 x 40): K/V loads are the bottleneck there
// (each non-uniform load is a per-lane loop), so a group takes as many query rows RQ as the unrolled
// head-dim code can hold: RQ * ceil(D/4) <= 80 vec4 registers of q (and as many of accumulator).
struct Tiles {
  const char* shader;  // attention (keys over lanes) or attention_rows (query rows over lanes)
  uint32_t local, rows;  // rows: query rows per workgroup
  uint32_t spec4, spec5;  // attention: rows per group, keys per lane; attention_rows: rows per lane, keys per step
  bool big_d;  // D > 160: loops over D stay loops (`bigd` shader variants)
};
// CPU kernels (lavapipe, 2 cores, bench ops + an ad-hoc 8 heads x 1024 queries run; GFLOP/s old -> rows
// kernel at RL rows per lane; "compile" = first pipeline build, LLVM):
//   D=40  4096 keys 34.5 -> 41.4 (RL 16), 57.4 (RL 32, but ~40 s compile); 77 keys 9.9 -> 29.2 (RL 16)
//         (RL 1/2/4/8: 5.9/11.3/18.5/29.2 for 4096 keys: a subgroupBroadcast costs about as much as RL FMAs)
//   D=80  4096 keys 20.9 -> 28.4 (RL 8, 36 s compile), 41.5 (RL 16, 81 s); 77 keys 9.7 -> 22.0 (RL 8)
//   D=160 4096 keys  8.5 -> 16.4 (RL 4, 71 s compile), 27.0 (RL 8, 180 s); 77 keys 6.0 -> 13.4 (RL 4)
// The rows kernel wins wherever RL >= 4, but its fully unrolled code compiles slowly as RL * D grows, so it
// is used for D <= 40 only (SD's largest attention level; ~12 s per pipeline at RL 16), RL no larger than
// the query count needs. D=80/160 would gain ~1.4-2x at 36-71 s of first compile each (not cached in-process
// across runs unless the Mesa shader cache is on).
Tiles choose_tiles(const vk::Context& ctx, int64_t dim, int64_t lq) {
  const bool big = dim > 160;
  uint32_t lw = std::clamp<uint32_t>(ctx.info().subgroup_size, 1, 8);
  if (kernel_family(ctx.info()) == KernelFamily::Cpu && dim <= 40) {
    uint32_t rl = 1;  // power of two: few pipeline variants
    while (rl < 16 && int64_t(lw) * rl < lq) rl *= 2;
    return {"attention_rows", lw, lw * rl, rl, 1, false};
  }
  // Keys are spread over the lanes of ONE subgroup (the lanes' partial softmaxes are merged with
  // subgroup reductions): 8 lanes = lavapipe's SIMD width, and fits every GPU's subgroup.
  if (big) return {"attention", lw, 8, 8, 1, true};
  uint32_t d4 = uint32_t(dim + 3) / 4, rows = std::clamp<uint32_t>(80 / d4, 1, 8);
  return {"attention", lw, rows, rows, 1, false};
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
  Tiles t = choose_tiles(ctx, qv.dim, qv.len);
  float scale = p.scale != 0.0f ? p.scale : 1.0f / std::sqrt(float(qv.dim));
  const int64_t B = qv.batch, H = qv.heads, Lq = qv.len, Lkv = kv.len, D = qv.dim;
  Push push{0, 0, uint32_t(Lkv), 0, 0,
            {uint32_t(qv.strides.b), uint32_t(qv.strides.h), uint32_t(qv.strides.l), uint32_t(kv.strides.b),
             uint32_t(kv.strides.h), uint32_t(kv.strides.l), uint32_t(vv.strides.b), uint32_t(vv.strides.h),
             uint32_t(vv.strides.l), uint32_t(ov.strides.b), uint32_t(ov.strides.h), uint32_t(ov.strides.l)},
            scale * 1.4426950408889634f,  // exp(x) = exp2(x * log2(e))
            0, 0, 0, 0, 0};
  // vec4 K/V loads need every K/V row start on a 4-element boundary (the bindings' skips are checked per chunk).
  const bool strides4 = qv.dim % 4 == 0 && kv.strides.b % 4 == 0 && kv.strides.h % 4 == 0 && kv.strides.l % 4 == 0 &&
                        vv.strides.b % 4 == 0 && vv.strides.h % 4 == 0 && vv.strides.l % 4 == 0;
  // One dispatch: batches [b0, b0+nb) x heads [h0, h0+nh) x query rows [r0, r0+nr), every binding covering
  // exactly its block (K/V: all Lkv rows of those heads).
  auto record = [&](int64_t b0, int64_t nb, int64_t h0, int64_t nh, int64_t r0, int64_t nr) {
    BoundRange rq = bind_elems(ctx, q, origin(qv.strides, b0, h0, r0), span(qv.strides, nb, nh, nr, D), false);
    BoundRange rk = bind_elems(ctx, k, origin(kv.strides, b0, h0, 0), span(kv.strides, nb, nh, Lkv, D), false);
    BoundRange rv = bind_elems(ctx, v, origin(vv.strides, b0, h0, 0), span(vv.strides, nb, nh, Lkv, D), false);
    BoundRange ro = bind_elems(ctx, dst, origin(ov.strides, b0, h0, r0), span(ov.strides, nb, nh, nr, D), true);
    const bool vec4 = strides4 && rk.first % 4 == 0 && rv.first % 4 == 0;
    vk::PipelineDesc d{variant(t.shader, q.dtype()) + (t.big_d ? "_bigd" : ""), 4, sizeof(Push),
                       {{0, t.local}, {3, uint32_t(D)}, {4, t.spec4}, {5, t.spec5}, {6, p.causal ? 1u : 0u},
                        {7, vec4 ? 4u : 1u}}};
    push.heads = uint32_t(nh), push.lq = uint32_t(nr), push.qblocks = uint32_t((nr + t.rows - 1) / t.rows);
    const uint64_t groups = uint64_t(nb) * uint64_t(nh) * push.qblocks;
    push.groups = uint32_t(groups), push.q0 = uint32_t(r0);
    push.fq = rq.first, push.fk = rk.first, push.fv = rv.first, push.fo = ro.first;
    auto g = grid_1d(groups * t.local, t.local);
    rec.dispatch(d, {rq.arg, rk.arg, rv.arg, ro.arg}, &push, sizeof push, g.x, g.y, 1, "attention");
  };

  // Whole batch items per dispatch while one item of every tensor fits a binding.
  uint64_t per_batch = 0;
  for (const Tensor* x : {&q, &k, &v, &dst}) per_batch = std::max<uint64_t>(per_batch, x->bytes() / uint64_t(B));
  if (fits_binding(ctx, per_batch)) {
    for_each_chunk(ctx, uint64_t(B), per_batch, "attention",
                   [&](uint64_t b0, uint64_t nb) { record(int64_t(b0), int64_t(nb), 0, H, 0, Lq); });
    return;
  }
  // One batch item is too big: chunk over heads and query rows. Every query row needs all Lkv keys, so K and
  // V of one (batch item, head) stay whole: that is this op's limit (with fused 3-D [B, L, H*D] K/V a head's
  // rows interleave with the others', so there it means K/V of a whole batch item must fit one binding).
  const uint64_t room = max_chunk_units(ctx, dtype_size(q.dtype()), "attention");  // elements per binding
  int64_t nh = H;
  for (const AttentionView* x : {&kv, &vv}) nh = fit_count(room, span(x->strides, 1, 1, Lkv, D), x->strides.h, nh);
  if (nh < 1)
    throw std::invalid_argument(
        "attention: K/V of one batch item and head (" + shape_str(k.shape()) + " / " + shape_str(v.shape()) + ", Lkv " +
        std::to_string(Lkv) + " x head dim " + std::to_string(D) + ") span more than one storage-buffer binding (" +
        std::to_string(binding_limit(ctx)) + " bytes); queries are chunked, but the keys and values of one (batch "
        "item, head) must fit one binding");
  int64_t nr = 0;
  for (;; nh = (nh + 1) / 2) {  // fewer heads per chunk leave room for more query rows
    nr = Lq;
    for (const AttentionView* x : {&qv, &ov}) nr = fit_count(room, span(x->strides, 1, nh, 1, D), x->strides.l, nr);
    if (nr >= 1 || nh == 1) break;
  }
  require(nr >= 1, "attention: one query row of " + shape_str(q.shape()) + " exceeds one storage-buffer binding");
  if (nr > int64_t(t.rows)) nr -= nr % int64_t(t.rows);  // whole workgroup row blocks per chunk
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h0 = 0; h0 < H; h0 += nh)
      for (int64_t r0 = 0; r0 < Lq; r0 += nr) record(b, 1, h0, std::min(nh, H - h0), r0, std::min(nr, Lq - r0));
}

Tensor attention(vk::Recorder& rec, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p) {
  auto qv = attention_view(q.shape(), p.heads, "q");
  Tensor o = empty(rec.context(), {qv.batch, qv.len, qv.heads * qv.dim}, q.dtype());
  attention(rec, o, q, k, v, p);
  return o;
}

}  // namespace vkf::ops
