#include <string>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"
#include "engine/ops/unary.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;

struct UnaryPush {
  uint32_t n, first_x, first_y;
  float p0, p1;
};
struct CopyPush {
  uint32_t n, first_x, first_y;
};
struct GegluPush {
  uint32_t n, half_n, first_x, first_y;
};

// Same-length element-wise pass over x -> dst in chunks; `unit_bytes` = the larger element size.
template <class Push>
void elementwise(vk::Recorder& rec, const vk::PipelineDesc& d, const Tensor& x, const Tensor& dst, Push p,
                 const char* name) {
  auto& ctx = rec.context();
  uint64_t ub = std::max(dtype_size(x.dtype()), dtype_size(dst.dtype()));
  for_each_chunk(ctx, uint64_t(x.numel()), ub, name, [&](uint64_t b, uint64_t n) {
    BoundRange rx = bind_elems(ctx, x, b, n, false), ry = bind_elems(ctx, dst, b, n, true);
    p.n = uint32_t(n);
    p.first_x = rx.first;
    p.first_y = ry.first;
    auto g = grid_1d(n, kLocal);
    rec.dispatch(d, {rx.arg, ry.arg}, &p, sizeof p, g.x, g.y, 1, name);
  });
}
}  // namespace

void unary(vk::Recorder& rec, UnaryOp op, const Tensor& x, const Tensor& dst, float p0, float p1) {
  const char* name = unary_op_name(op);
  require_same_shape(x, dst, name);
  require(x.dtype() == dst.dtype(), std::string(name) + ": dtype mismatch " + dtype_name(x.dtype()) + " -> " +
                                        dtype_name(dst.dtype()));
  vk::PipelineDesc d{variant("unary", x.dtype()), 2, sizeof(UnaryPush), {{0, kLocal}, {3, uint32_t(op)}}};
  elementwise(rec, d, x, dst, UnaryPush{0, 0, 0, p0, p1}, name);
}

Tensor unary(vk::Recorder& rec, UnaryOp op, const Tensor& x, float p0, float p1) {
  Tensor o = empty(rec.context(), x.shape(), x.dtype());
  unary(rec, op, x, o, p0, p1);
  return o;
}

void geglu(vk::Recorder& rec, const Tensor& x, const Tensor& dst) {
  require(x.rank() >= 1 && x.dim(-1) % 2 == 0, "geglu: last axis must be even, got " + shape_str(x.shape()));
  Shape os = x.shape();
  os.back() /= 2;
  if (dst.shape() != os)
    throw std::invalid_argument("geglu: output shape " + shape_str(dst.shape()) + ", expected " + shape_str(os));
  require(x.dtype() == dst.dtype(), "geglu: dtype mismatch");
  const uint64_t half = uint64_t(os.back()), rows = half ? uint64_t(dst.numel()) / half : 0;
  auto& ctx = rec.context();
  vk::PipelineDesc d{variant("geglu", x.dtype()), 2, sizeof(GegluPush), {{0, kLocal}}};
  for_each_chunk(ctx, rows, 2 * half * dtype_size(x.dtype()), "geglu", [&](uint64_t r, uint64_t nr) {
    BoundRange rx = bind_elems(ctx, x, r * 2 * half, nr * 2 * half, false);
    BoundRange ry = bind_elems(ctx, dst, r * half, nr * half, true);
    GegluPush p{uint32_t(nr * half), uint32_t(half), rx.first, ry.first};
    auto g = grid_1d(nr * half, kLocal);
    rec.dispatch(d, {rx.arg, ry.arg}, &p, sizeof p, g.x, g.y, 1, "geglu");
  });
}

Tensor geglu(vk::Recorder& rec, const Tensor& x) {
  require(x.rank() >= 1, "geglu: scalar input");
  Shape os = x.shape();
  os.back() /= 2;
  Tensor o = empty(rec.context(), os, x.dtype());
  geglu(rec, x, o);
  return o;
}

void cast(vk::Recorder& rec, const Tensor& x, const Tensor& dst) {
  require_same_shape(x, dst, "cast");
  auto ok = [](DType t) { return t == DType::F32 || t == DType::F16; };
  require(ok(x.dtype()) && ok(dst.dtype()), std::string("cast: only F32 <-> F16, got ") + dtype_name(x.dtype()) +
                                                 " -> " + dtype_name(dst.dtype()));
  if (x.dtype() == dst.dtype()) {  // transfer copies have no binding-range limit
    if (x.numel() > 0) rec.copy(in(x), out(dst));
    return;
  }
  const char* shader = dst.dtype() == DType::F16 ? "cast_f2h" : "cast_h2f";
  vk::PipelineDesc d{shader, 2, sizeof(CopyPush), {{0, kLocal}}};
  elementwise(rec, d, x, dst, CopyPush{0, 0, 0}, "cast");
}

Tensor cast(vk::Recorder& rec, const Tensor& x, DType to) {
  Tensor o = empty(rec.context(), x.shape(), to);
  cast(rec, x, o);
  return o;
}

}  // namespace vkf::ops
