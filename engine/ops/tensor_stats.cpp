#include "engine/ops/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;      // the shaders' shared arrays hold 256
constexpr uint64_t kMaxGroups = 256;  // per chunk: enough to fill a GPU, few partials to combine
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
}  // namespace

TensorStats tensor_stats_ref(const std::vector<float>& x) {
  TensorStats s;
  s.min = std::numeric_limits<float>::infinity();
  s.max = -s.min;
  double sum = 0;
  for (float v : x) {
    if (std::isnan(v)) ++s.nan;
    else if (std::isinf(v)) ++s.inf;
    else s.min = std::min(s.min, v), s.max = std::max(s.max, v), sum += v, ++s.finite;
  }
  if (s.finite == 0) s.min = s.max = kNaN, s.mean = kNaN;
  else s.mean = sum / double(s.finite);
  return s;
}

Tensor tensor_stats(vk::Recorder& rec, const Tensor& x) {
  require(x.dtype() == DType::F32 || x.dtype() == DType::F16, "tensor_stats: F32 or F16 tensors only");
  auto& ctx = rec.context();
  Tensor res = empty(ctx, {8}, DType::F32);
  struct Chunk {
    uint64_t begin, count, groups;
  };
  std::vector<Chunk> chunks;
  uint64_t total = 0;
  for_each_chunk(ctx, uint64_t(x.numel()), dtype_size(x.dtype()), "tensor_stats", [&](uint64_t b0, uint64_t n) {
    const uint64_t g = std::min<uint64_t>((n + kLocal - 1) / kLocal, kMaxGroups);
    chunks.push_back({b0, n, g});
    total += g;
  });
  if (total == 0) {  // empty: zero counts; read_tensor_stats turns finite == 0 into NaN min/max/mean
    const uint32_t zero = 0;
    rec.fill(ops::out(res), zero);
    return res;
  }
  Tensor part = empty(ctx, {int64_t(total) * 6}, DType::F32);
  const BoundRange rp = bind_all(ctx, part, true, "tensor_stats");
  struct Push {
    uint32_t n, first, base, out_index, stride;
  };
  const vk::PipelineDesc d1{variant("tensor_stats", x.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  uint64_t at = 0;
  for (const Chunk& c : chunks) {
    const BoundRange rx = bind_elems(ctx, x, c.begin, c.count, false);
    const Push p{uint32_t(c.count), rx.first, rp.first, uint32_t(at), uint32_t(c.groups * kLocal)};
    rec.dispatch(d1, {rx.arg, rp.arg}, &p, sizeof p, uint32_t(c.groups), 1, 1, "tensor_stats");
    at += c.groups;
  }
  const BoundRange rin = bind_all(ctx, part, false, "tensor_stats");
  const BoundRange rout = bind_all(ctx, res, true, "tensor_stats");
  require(rout.first == 0, "tensor_stats: result must start its binding");
  const uint32_t p2[2] = {uint32_t(total), rin.first};
  const vk::PipelineDesc d2{"tensor_stats_reduce", 2, sizeof p2, {{0, kLocal}}};
  rec.dispatch(d2, {rin.arg, rout.arg}, p2, sizeof p2, 1, 1, 1, "tensor_stats_reduce");
  return res;
}

TensorStats read_tensor_stats(vk::Context& ctx, const Tensor& stats) {
  require(stats.dtype() == DType::F32 && stats.numel() == 8, "read_tensor_stats: not a tensor_stats result");
  const auto raw = download_bytes(ctx, stats);
  float f[3];
  uint32_t u[3];
  std::memcpy(f, raw.data(), sizeof f);
  std::memcpy(u, raw.data() + 12, sizeof u);
  TensorStats s;
  s.nan = u[0], s.inf = u[1], s.finite = u[2];
  if (s.finite == 0) s.min = s.max = kNaN, s.mean = kNaN;
  else s.min = f[0], s.max = f[1], s.mean = double(f[2]) / double(s.finite);
  return s;
}

TensorStats tensor_stats(vk::Context& ctx, const Tensor& x) {
  vk::Recorder rec(ctx);
  const Tensor t = tensor_stats(rec, x);
  rec.submit();
  return read_tensor_stats(ctx, t);
}

}  // namespace vkf::ops
