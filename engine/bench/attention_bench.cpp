#include "engine/bench/attention_bench.h"

#include <string>
#include <vector>

#include "engine/ops/attention.h"
#include "engine/tensor/tensor.h"

namespace vkf::bench {
namespace {

std::vector<float> noise(size_t n, uint32_t seed) {  // deterministic, cheap, values in [-1, 1)
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return v;
}

Result attention_case(vk::Context& ctx, const Options& opt, int64_t lkv, DType dt, const char* name) {
  const int64_t heads = 8, dim = 40, lq = opt.quick ? 1024 : 4096;
  if (lkv == 0) lkv = lq;  // self-attention
  Result r{std::string(name) + " " + std::to_string(lq) + "x" + std::to_string(lkv),
           4.0 * double(heads) * double(lq) * double(lkv) * double(dim), {}};
  if (dt == DType::F16 && !ctx.info().fp16_storage) {
    r.name += " (skipped: no 16-bit storage)";
    return r;
  }
  Tensor q = from_host(ctx, {1, lq, heads * dim}, noise(size_t(lq * heads * dim), 1), dt);
  Tensor k = from_host(ctx, {1, lkv, heads * dim}, noise(size_t(lkv * heads * dim), 2), dt);
  Tensor v = from_host(ctx, {1, lkv, heads * dim}, noise(size_t(lkv * heads * dim), 3), dt);
  Tensor o = empty(ctx, {1, lq, heads * dim}, dt);
  ops::AttentionParams p{heads, 0.0f, false};
  r.t = time_workload(ctx, opt.repeat, [&](vk::Recorder& rec) { ops::attention(rec, o, q, k, v, p); });
  return r;
}

}  // namespace

Result attention_self(vk::Context& ctx, const Options& opt) {
  return attention_case(ctx, opt, 0, DType::F32, "attention f32 8h d40");
}
Result attention_cross(vk::Context& ctx, const Options& opt) {
  return attention_case(ctx, opt, 77, DType::F32, "attention f32 8h d40");
}
Result attention_self_f16(vk::Context& ctx, const Options& opt) {
  return attention_case(ctx, opt, 0, DType::F16, "attention f16 8h d40");
}

}  // namespace vkf::bench
