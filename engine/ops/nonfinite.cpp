#include "engine/ops/nonfinite.h"

#include <cmath>
#include <cstring>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;
constexpr uint64_t kMaxGroups = 1024;  // enough to fill a GPU; each thread strides over the rest
struct Push {
  uint32_t n, first, slot, stride;
};
}  // namespace

NonfiniteCount count_nonfinite_ref(const std::vector<float>& x) {
  NonfiniteCount c;
  for (float v : x) {
    if (std::isnan(v)) ++c.nan;
    else if (std::isinf(v)) ++c.inf;
  }
  return c;
}

Tensor nonfinite_counters(vk::Context& ctx, int64_t slots) {
  require(slots > 0, "nonfinite_counters: need at least one slot");
  return from_host_i32(ctx, {slots, 2}, std::vector<int32_t>(size_t(slots) * 2, 0));
}

void count_nonfinite(vk::Recorder& rec, const Tensor& x, const Tensor& counters, int64_t slot) {
  require(counters.dtype() == DType::I32 && counters.rank() == 2 && counters.dim(1) == 2,
          "count_nonfinite: counters must come from nonfinite_counters()");
  require(slot >= 0 && slot < counters.dim(0), "count_nonfinite: slot " + std::to_string(slot) + " out of range");
  if (x.numel() == 0) return;
  auto& ctx = rec.context();
  BoundRange rc = bind_all(ctx, counters, true, "count_nonfinite");
  require(rc.first == 0, "count_nonfinite: counters must start their buffer binding");
  vk::PipelineDesc d{variant("nonfinite_count", x.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  for_each_chunk(ctx, uint64_t(x.numel()), dtype_size(x.dtype()), "count_nonfinite", [&](uint64_t b, uint64_t n) {
    BoundRange rx = bind_elems(ctx, x, b, n, false);
    const uint64_t groups = std::min<uint64_t>((n + kLocal - 1) / kLocal, kMaxGroups);
    Push p{uint32_t(n), rx.first, uint32_t(slot), uint32_t(groups * kLocal)};
    rec.dispatch(d, {rx.arg, rc.arg}, &p, sizeof p, uint32_t(groups), 1, 1, "count_nonfinite");
  });
}

std::vector<NonfiniteCount> read_nonfinite(vk::Context& ctx, const Tensor& counters) {
  auto raw = download_bytes(ctx, counters);
  std::vector<NonfiniteCount> out(size_t(counters.dim(0)));
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t v[2];
    std::memcpy(v, raw.data() + i * 8, 8);
    out[i] = {v[0], v[1]};
  }
  return out;
}

NonfiniteCount count_nonfinite(vk::Context& ctx, const Tensor& x) {
  Tensor c = nonfinite_counters(ctx, 1);
  vk::Recorder rec(ctx);
  count_nonfinite(rec, x, c, 0);
  rec.submit();
  return read_nonfinite(ctx, c)[0];
}

}  // namespace vkf::ops
