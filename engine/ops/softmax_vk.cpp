#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"
#include "engine/ops/softmax.h"

namespace vkf::ops {

namespace {
struct Push {
  uint32_t rows, row_len, first_x, first_y;
};
}  // namespace

void softmax(vk::Recorder& rec, const Tensor& x, const Tensor& dst) {
  require(x.rank() >= 1, "softmax: scalar input");
  require_same_shape(x, dst, "softmax");
  require(x.dtype() == dst.dtype(), "softmax: dtype mismatch");
  if (x.numel() == 0) return;
  auto& ctx = rec.context();
  const uint64_t d = uint64_t(x.dim(-1)), rows = uint64_t(x.numel()) / d;
  const uint32_t local = d >= 2048 ? 256 : 64;
  vk::PipelineDesc desc{variant("softmax", x.dtype()), 2, sizeof(Push), {{0, local}}};
  for_each_chunk(ctx, rows, d * dtype_size(x.dtype()), "softmax", [&](uint64_t r0, uint64_t nr) {
    BoundRange rx = bind_elems(ctx, x, r0 * d, nr * d, false), ry = bind_elems(ctx, dst, r0 * d, nr * d, true);
    Push p{uint32_t(nr), uint32_t(d), rx.first, ry.first};
    auto g = grid_1d(nr, 1);  // one workgroup per row
    rec.dispatch(desc, {rx.arg, ry.arg}, &p, sizeof p, g.x, g.y, 1, "softmax");
  });
}

Tensor softmax(vk::Recorder& rec, const Tensor& x) {
  Tensor o = empty(rec.context(), x.shape(), x.dtype());
  softmax(rec, x, o);
  return o;
}

}  // namespace vkf::ops
