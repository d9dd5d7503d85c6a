// Recording of broadcast binary ops. The output is split into flat-index chunks; each operand binds only
// the range of its elements that the chunk can touch (whole operand when it fits, which is the usual
// case for broadcast operands such as biases).
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "engine/ops/binary.h"
#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {

struct Push {
  uint32_t n, base, off_a, off_b, first_o, flags;
  uint32_t shape[5], sa[5], sb[5];
};

using Dims = std::array<uint64_t, 5>;

// Operand strides over the 5-D padded output shape (0 on broadcast axes).
Dims strides5(const Shape& s) {
  Dims st{0, 0, 0, 0, 0};
  uint64_t acc = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    size_t i = s.size() - 1 - k;
    st[4 - k] = s[i] == 1 ? 0 : acc;
    acc *= uint64_t(s[i]);
  }
  return st;
}

Dims coords(const Dims& shape, uint64_t g) {
  Dims c{};
  for (int d = 4; d >= 0; --d) c[size_t(d)] = g % shape[size_t(d)], g /= shape[size_t(d)];
  return c;
}

// Inclusive bounds of the operand's flat indices touched by output flat range [b, e): axes before the
// first axis where the end points differ are fixed; after it every coordinate may occur.
std::pair<uint64_t, uint64_t> touched(const Dims& shape, const Dims& st, uint64_t b, uint64_t e) {
  Dims cb = coords(shape, b), ce = coords(shape, e - 1);
  uint64_t lo = 0, hi = 0;
  size_t j = 0;
  while (j < 5 && cb[j] == ce[j]) lo += cb[j] * st[j], ++j;
  hi = lo;
  if (j < 5) {
    lo += cb[j] * st[j];
    hi += ce[j] * st[j];
    for (size_t d = j + 1; d < 5; ++d) hi += (shape[d] - 1) * st[d];
  }
  return {lo, hi};
}

struct Operand {
  const Tensor* t;
  Dims st;
  bool same;   // same shape as the output: index = output index
  bool whole;  // fits one binding: bind it all
};

}  // namespace

void binary(vk::Recorder& rec, BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst) {
  const char* name = binary_op_name(op);
  Shape out = broadcast_shapes(a.shape(), b.shape(), name);
  if (dst.shape() != out)
    throw std::invalid_argument(std::string(name) + ": output shape " + shape_str(dst.shape()) + " != broadcast of " +
                                shape_str(a.shape()) + " and " + shape_str(b.shape()));
  require(uint64_t(dst.numel()) < (uint64_t(1) << 32), std::string(name) + ": more than 2^32 elements");
  require(out.size() <= 5, std::string(name) + ": more than 5 dimensions: " + shape_str(out));
  require(a.dtype() == dst.dtype() && b.dtype() == dst.dtype(),
          std::string(name) + ": dtypes differ (" + dtype_name(a.dtype()) + ", " + dtype_name(b.dtype()) + " -> " +
              dtype_name(dst.dtype()) + ")");
  const auto& ctx = rec.context();
  const uint64_t es = dtype_size(dst.dtype()), limit = binding_limit(ctx);
  // Collapse the 5-D problem: drop size-1 axes and merge neighbours along which both operands continue
  // contiguously (or stay broadcast), so the shader divides once per remaining inner axis.
  Dims full{1, 1, 1, 1, 1};
  for (size_t k = 0; k < out.size(); ++k) full[5 - out.size() + k] = uint64_t(out[k]);
  Operand ops[2] = {{&a, strides5(a.shape()), a.shape() == out, false}, {&b, strides5(b.shape()), b.shape() == out, false}};
  std::vector<std::array<uint64_t, 3>> dims;  // (size, stride a, stride b), outer to inner
  for (size_t d = 0; d < 5; ++d) {
    if (full[d] == 1) continue;
    if (!dims.empty()) {
      auto& in = dims.back();  // merge the previous (outer) axis into this one when strides line up
      if (in[1] == ops[0].st[d] * full[d] && in[2] == ops[1].st[d] * full[d]) {
        in = {in[0] * full[d], ops[0].st[d], ops[1].st[d]};
        continue;
      }
    }
    dims.push_back({full[d], ops[0].st[d], ops[1].st[d]});
  }
  if (dims.empty()) dims.push_back({1, 0, 0});
  Dims shape{1, 1, 1, 1, 1};
  for (auto& o : ops) o.st = Dims{0, 0, 0, 0, 0};
  for (size_t k = 0; k < dims.size(); ++k) {
    size_t d = 5 - dims.size() + k;
    shape[d] = dims[k][0];
    ops[0].st[d] = dims[k][1];
    ops[1].st[d] = dims[k][2];
  }
  for (auto& o : ops) o.whole = !o.same && bind_elems(ctx, *o.t, 0, uint64_t(o.t->numel()), false).arg.range <= limit;

  Push p{};
  for (int d = 0; d < 5; ++d) {
    p.shape[d] = uint32_t(shape[size_t(d)]);
    p.sa[d] = uint32_t(ops[0].st[size_t(d)]);
    p.sb[d] = uint32_t(ops[1].st[size_t(d)]);
  }
  p.flags = (ops[0].same ? 1u : 0u) | (ops[1].same ? 2u : 0u) | uint32_t(dims.size()) << 8;
  constexpr uint32_t kLocal = 256;
  vk::PipelineDesc desc{variant("binary", dst.dtype()), 3, sizeof(Push), {{0, kLocal}, {3, uint32_t(op)}}};

  const uint64_t n = uint64_t(dst.numel()), step = max_chunk_units(ctx, es, name);
  for (uint64_t beg = 0; beg < n;) {
    uint64_t end = std::min(n, beg + step);
    vk::BufferArg args[3];
    uint32_t offs[2];
    for (;;) {  // shrink the chunk until every operand's touched range fits one binding
      bool fits = true;
      for (int k = 0; k < 2 && fits; ++k) {
        const Operand& o = ops[k];
        uint64_t lo = 0, cnt = uint64_t(o.t->numel());
        if (o.same) lo = beg, cnt = end - beg;
        else if (!o.whole) {
          auto [l, h] = touched(shape, o.st, beg, end);
          lo = l, cnt = h - l + 1;
        }
        BoundRange r = bind_elems(ctx, *o.t, lo, cnt, false);
        fits = r.arg.range <= limit;
        args[k] = r.arg;
        offs[k] = r.first - uint32_t(lo);  // binding index = flat index + off (mod 2^32)
      }
      if (fits) break;
      end = beg + std::max<uint64_t>(1, (end - beg) / 2);
    }
    BoundRange ro = bind_elems(ctx, dst, beg, end - beg, true);
    args[2] = ro.arg;
    p.n = uint32_t(end - beg);
    p.base = uint32_t(beg);
    p.off_a = offs[0];
    p.off_b = offs[1];
    p.first_o = ro.first;
    auto g = grid_1d(end - beg, kLocal);
    rec.dispatch(desc, std::span<const vk::BufferArg>(args, 3), &p, sizeof p, g.x, g.y, 1, name);
    beg = end;
  }
}

Tensor binary(vk::Recorder& rec, BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor o = empty(rec.context(), broadcast_shapes(a.shape(), b.shape(), binary_op_name(op)), a.dtype());
  binary(rec, op, a, b, o);
  return o;
}

}  // namespace vkf::ops
