#include "engine/ops/reduce.h"

#include <algorithm>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;      // the shaders' shared arrays hold 256
constexpr uint64_t kMaxGroups = 256;  // per chunk: enough to fill a GPU, few partials to add
}  // namespace

double dot_ref(const std::vector<float>& a, const std::vector<float>& b) {
  require(a.size() == b.size(), "dot_ref: sizes differ");
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

Tensor dot(vk::Recorder& rec, const Tensor& a, const Tensor& b) {
  require_same_shape(a, b, "dot");
  require(a.dtype() == b.dtype(), "dot: dtypes differ");
  auto& ctx = rec.context();
  Tensor res = empty(ctx, {1}, DType::F32);
  struct Chunk {
    uint64_t begin, count, groups;
  };
  std::vector<Chunk> chunks;
  uint64_t total = 0;
  for_each_chunk(ctx, uint64_t(a.numel()), dtype_size(a.dtype()), "dot", [&](uint64_t b0, uint64_t n) {
    const uint64_t g = std::min<uint64_t>((n + kLocal - 1) / kLocal, kMaxGroups);
    chunks.push_back({b0, n, g});
    total += g;
  });
  if (total == 0) {  // an empty tensor: the sum is 0
    const uint32_t zero = 0;
    rec.fill(ops::out(res), zero);
    return res;
  }
  Tensor part = empty(ctx, {int64_t(total)}, DType::F32);
  const BoundRange rp = bind_all(ctx, part, true, "dot");
  struct Push {
    uint32_t n, first_a, first_b, out_index, stride;
  };
  const vk::PipelineDesc d1{variant("reduce_dot", a.dtype()), 3, sizeof(Push), {{0, kLocal}}};
  uint64_t at = 0;
  for (const Chunk& c : chunks) {
    const BoundRange ra = bind_elems(ctx, a, c.begin, c.count, false);
    const BoundRange rb = bind_elems(ctx, b, c.begin, c.count, false);
    const Push p{uint32_t(c.count), ra.first, rb.first, uint32_t(rp.first + at), uint32_t(c.groups * kLocal)};
    rec.dispatch(d1, {ra.arg, rb.arg, rp.arg}, &p, sizeof p, uint32_t(c.groups), 1, 1, "reduce_dot");
    at += c.groups;
  }
  const BoundRange rin = bind_all(ctx, part, false, "dot");
  require(rin.first == 0, "dot: partials must start their binding");
  const uint32_t n = uint32_t(total);
  const vk::PipelineDesc d2{"reduce_sum", 2, sizeof n, {{0, kLocal}}};
  rec.dispatch(d2, {rin.arg, bind_all(ctx, res, true, "dot").arg}, &n, sizeof n, 1, 1, 1, "reduce_sum");
  return res;
}

}  // namespace vkf::ops
