#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "engine/ops/chunk.h"
#include "engine/ops/movement.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;

// Bit-exact copy shaders: 32-bit elements (F32, I32) share the base variant.
std::string bits_variant(const std::string& base, DType d) { return d == DType::F16 ? base + "_f16" : base; }

struct CopyPush {
  uint32_t n, row_len, src_stride, dst_stride, first_src, first_dst;
};

// dst[dst_begin + r*dst_stride + c] = src[src_begin + r*src_stride + c], r < rows, c < row_len.
void copy_rows(vk::Recorder& rec, const Tensor& src, uint64_t src_begin, uint64_t src_stride, const Tensor& dst,
               uint64_t dst_begin, uint64_t dst_stride, uint64_t rows, uint64_t row_len, const char* name) {
  if (rows == 0 || row_len == 0) return;
  const uint64_t es = dtype_size(src.dtype());
  if (rows == 1 || (src_stride == row_len && dst_stride == row_len)) {  // one contiguous block: transfer copy
    uint64_t bytes = rows * row_len * es;
    rec.copy({&src.buffer(), src.offset() + src_begin * es, bytes, false},
             {&dst.buffer(), dst.offset() + dst_begin * es, bytes, true});
    return;
  }
  auto& ctx = rec.context();
  vk::PipelineDesc d{bits_variant("copy2d", src.dtype()), 2, sizeof(CopyPush), {{0, kLocal}}};
  for_each_chunk(ctx, rows, std::max(src_stride, dst_stride) * es, name, [&](uint64_t r0, uint64_t nr) {
    BoundRange rs = bind_elems(ctx, src, src_begin + r0 * src_stride, (nr - 1) * src_stride + row_len, false);
    BoundRange rd = bind_elems(ctx, dst, dst_begin + r0 * dst_stride, (nr - 1) * dst_stride + row_len, true);
    CopyPush p{uint32_t(nr * row_len), uint32_t(row_len), uint32_t(src_stride), uint32_t(dst_stride), rs.first, rd.first};
    auto g = grid_1d(nr * row_len, kLocal);
    rec.dispatch(d, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, name);
  });
}

int norm_axis(int axis, int rank, const char* op) {
  int a = axis < 0 ? axis + rank : axis;
  require(a >= 0 && a < rank, std::string(op) + ": axis " + std::to_string(axis) + " out of range for rank " +
                                  std::to_string(rank));
  return a;
}

uint64_t prod(const Shape& s, size_t b, size_t e) {
  uint64_t p = 1;
  for (size_t i = b; i < e; ++i) p *= uint64_t(s[i]);
  return p;
}
}  // namespace

// ---- upsample -------------------------------------------------------------------------------------------

void upsample_nearest2x(vk::Recorder& rec, const Tensor& x, const Tensor& dst) {
  require(x.rank() >= 2, "upsample_nearest2x: input must have rank >= 2, got " + shape_str(x.shape()));
  Shape os = x.shape();
  os[os.size() - 2] *= 2;
  os.back() *= 2;
  if (dst.shape() != os || dst.dtype() != x.dtype())
    throw std::invalid_argument("upsample_nearest2x: output " + shape_str(dst.shape()) + " " + dtype_name(dst.dtype()) +
                                ", expected " + shape_str(os) + " " + dtype_name(x.dtype()));
  if (x.numel() == 0) return;
  struct Push {
    uint32_t n, h, w, first_src, first_dst;
  };
  auto& ctx = rec.context();
  const uint64_t h = uint64_t(x.dim(-2)), w = uint64_t(x.dim(-1)), planes = uint64_t(x.numel()) / (h * w);
  vk::PipelineDesc d{bits_variant("upsample2x", x.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  // The shader works on input rows (each writes two output rows), so chunks are runs of rows of any plane.
  for_each_chunk(ctx, planes * h, 4 * w * dtype_size(x.dtype()), "upsample_nearest2x", [&](uint64_t r0, uint64_t nr) {
    BoundRange rs = bind_elems(ctx, x, r0 * w, nr * w, false), rd = bind_elems(ctx, dst, r0 * 4 * w, nr * 4 * w, true);
    Push p{uint32_t(nr * w), uint32_t(h), uint32_t(w), rs.first, rd.first};
    auto g = grid_1d(nr * w, kLocal);
    rec.dispatch(d, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "upsample_nearest2x");
  });
}

Tensor upsample_nearest2x(vk::Recorder& rec, const Tensor& x) {
  require(x.rank() >= 2, "upsample_nearest2x: input must have rank >= 2, got " + shape_str(x.shape()));
  Shape os = x.shape();
  os[os.size() - 2] *= 2;
  os.back() *= 2;
  Tensor o = empty(rec.context(), os, x.dtype());
  upsample_nearest2x(rec, x, o);
  return o;
}

// ---- concat / narrow ------------------------------------------------------------------------------------

namespace {
Shape concat_shape(const std::vector<const Tensor*>& parts, int axis) {
  require(!parts.empty(), "concat: no inputs");
  const Tensor& f = *parts[0];
  int a = norm_axis(axis, f.rank(), "concat");
  Shape s = f.shape();
  s[size_t(a)] = 0;
  for (const Tensor* t : parts) {
    bool ok = t->rank() == f.rank() && t->dtype() == f.dtype();
    for (int i = 0; ok && i < f.rank(); ++i) ok = i == a || t->dim(i) == f.dim(i);
    if (!ok)
      throw std::invalid_argument("concat: input " + shape_str(t->shape()) + " " + dtype_name(t->dtype()) +
                                  " does not match " + shape_str(f.shape()) + " " + dtype_name(f.dtype()) +
                                  " outside axis " + std::to_string(a));
    s[size_t(a)] += t->dim(a);
  }
  return s;
}
}  // namespace

void concat(vk::Recorder& rec, const std::vector<const Tensor*>& parts, int axis, const Tensor& dst) {
  Shape s = concat_shape(parts, axis);
  if (dst.shape() != s || dst.dtype() != parts[0]->dtype())
    throw std::invalid_argument("concat: output " + shape_str(dst.shape()) + ", expected " + shape_str(s));
  const size_t a = size_t(norm_axis(axis, dst.rank(), "concat"));
  const uint64_t outer = prod(s, 0, a), inner = prod(s, a + 1, s.size()), total = uint64_t(s[a]);
  uint64_t off = 0;
  for (const Tensor* t : parts) {
    const uint64_t len = uint64_t(t->dim(int(a))) * inner;
    copy_rows(rec, *t, 0, len, dst, off * inner, total * inner, outer, len, "concat");
    off += uint64_t(t->dim(int(a)));
  }
}

Tensor concat(vk::Recorder& rec, const std::vector<const Tensor*>& parts, int axis) {
  Tensor o = empty(rec.context(), concat_shape(parts, axis), parts[0]->dtype());
  concat(rec, parts, axis, o);
  return o;
}

Tensor narrow(vk::Recorder& rec, const Tensor& x, int axis, int64_t begin, int64_t length) {
  const size_t a = size_t(norm_axis(axis, x.rank(), "narrow"));
  require(begin >= 0 && length >= 0 && begin + length <= x.dim(int(a)),
          "narrow: range [" + std::to_string(begin) + ", " + std::to_string(begin + length) + ") outside axis " +
              std::to_string(a) + " of " + shape_str(x.shape()));
  Shape s = x.shape();
  s[a] = length;
  Tensor o = empty(rec.context(), s, x.dtype());
  const uint64_t outer = prod(s, 0, a), inner = prod(s, a + 1, s.size());
  copy_rows(rec, x, uint64_t(begin) * inner, uint64_t(x.dim(int(a))) * inner, o, 0, uint64_t(length) * inner, outer,
            uint64_t(length) * inner, "narrow");
  return o;
}

// ---- permute --------------------------------------------------------------------------------------------

namespace {
Shape permuted_shape(const Tensor& x, const std::vector<int>& perm) {
  const int r = x.rank();
  std::vector<bool> seen(size_t(r), false);
  bool ok = int(perm.size()) == r && r <= 5;
  for (int p : perm) {
    ok = ok && p >= 0 && p < r && !seen[size_t(p)];
    if (ok) seen[size_t(p)] = true;
  }
  if (!ok) {
    std::string ps;
    for (int p : perm) ps += (ps.empty() ? "" : ",") + std::to_string(p);
    throw std::invalid_argument("permute: (" + ps + ") is not a permutation of the axes of " + shape_str(x.shape()) +
                                " (rank <= 5)");
  }
  Shape s(static_cast<size_t>(r));
  for (int i = 0; i < r; ++i) s[size_t(i)] = x.dim(perm[size_t(i)]);
  return s;
}
}  // namespace

namespace {
// A box of the permute's index space (output-axis order): begin/len per axis.
struct PermBox {
  uint64_t begin[5], len[5];
};
// Element span of the box in a tensor with strides st (first element .. last element + 1).
uint64_t box_span(const PermBox& b, const uint64_t* st) {
  uint64_t s = 1;
  for (int d = 0; d < 5; ++d) s += (b.len[d] - 1) * st[d];
  return s;
}
uint64_t box_origin(const PermBox& b, const uint64_t* st) {
  uint64_t o = 0;
  for (int d = 0; d < 5; ++d) o += b.begin[d] * st[d];
  return o;
}
}  // namespace

void permute(vk::Recorder& rec, const Tensor& x, const std::vector<int>& perm, const Tensor& dst) {
  Shape s = permuted_shape(x, perm);
  if (dst.shape() != s || dst.dtype() != x.dtype())
    throw std::invalid_argument("permute: output " + shape_str(dst.shape()) + ", expected " + shape_str(s));
  if (x.numel() == 0) return;
  auto& ctx = rec.context();
  struct Push {
    uint32_t n, first_src, first_dst, shape[5], stride[5], ostride[5];
  };
  // Index space in output-axis order, padded to 5-D: input strides (ist) and output strides (ost).
  const int r = x.rank();
  std::vector<uint64_t> st(size_t(r), 1);
  for (int i = r - 1; i > 0; --i) st[size_t(i - 1)] = st[size_t(i)] * uint64_t(x.dim(i));
  uint64_t ist[5] = {0, 0, 0, 0, 0}, ost[5] = {0, 0, 0, 0, 0};
  PermBox all{{0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}};
  for (int i = r - 1, o = 1; i >= 0; o *= int(s[size_t(i)]), --i) {
    all.len[5 - r + i] = uint64_t(s[size_t(i)]);
    ist[5 - r + i] = st[size_t(perm[size_t(i)])];
    ost[5 - r + i] = uint64_t(o);
  }
  const uint64_t room = max_chunk_units(ctx, dtype_size(x.dtype()), "permute");  // elements per binding
  vk::PipelineDesc d{bits_variant("permute", x.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  // Boxes whose input and output spans each fit one binding: while a box's span in a tensor is too big,
  // split the box along that tensor's largest-stride axis into the longest pieces that fit (spans then
  // shrink; a single element always fits), and recurse (the other tensor may still need splitting).
  std::function<void(const PermBox&)> run = [&](const PermBox& b) {
    const uint64_t si = box_span(b, ist), so = box_span(b, ost);
    if (si > room || so > room) {
      const uint64_t* t = si >= so ? ist : ost;
      int ax = -1;
      for (int dd = 0; dd < 5; ++dd)
        if (b.len[dd] > 1 && (ax < 0 || t[dd] > t[ax])) ax = dd;
      const uint64_t rest = box_span(b, t) - (b.len[ax] - 1) * t[ax];
      const uint64_t piece = room > rest ? std::min(b.len[ax] - 1, (room - rest) / std::max<uint64_t>(t[ax], 1) + 1) : 1;
      for (uint64_t q = 0; q < b.len[ax]; q += piece) {
        PermBox c = b;
        c.begin[ax] = b.begin[ax] + q;
        c.len[ax] = std::min(piece, b.len[ax] - q);
        run(c);
      }
      return;
    }
    BoundRange rs = bind_elems(ctx, x, box_origin(b, ist), si, false);
    BoundRange rd = bind_elems(ctx, dst, box_origin(b, ost), so, true);
    uint64_t n = 1;
    Push p{0, rs.first, rd.first, {}, {}, {}};
    for (int dd = 0; dd < 5; ++dd) {
      n *= b.len[dd];
      p.shape[dd] = uint32_t(b.len[dd]);
      p.stride[dd] = uint32_t(ist[dd]);
      p.ostride[dd] = uint32_t(ost[dd]);
    }
    p.n = uint32_t(n);
    auto g = grid_1d(n, kLocal);
    rec.dispatch(d, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "permute");
  };
  run(all);
}

Tensor permute(vk::Recorder& rec, const Tensor& x, const std::vector<int>& perm) {
  Tensor o = empty(rec.context(), permuted_shape(x, perm), x.dtype());
  permute(rec, x, perm, o);
  return o;
}

// ---- pad2d ----------------------------------------------------------------------------------------------

namespace {
Shape padded_shape(const Tensor& x, const Pad2d& p) {
  require(x.rank() >= 2, "pad2d: input must have rank >= 2, got " + shape_str(x.shape()));
  Shape s = x.shape();
  s[s.size() - 2] += p.top + p.bottom;
  s.back() += p.left + p.right;
  require(s[s.size() - 2] > 0 && s.back() > 0, "pad2d: padding (" + std::to_string(p.left) + "," +
                                                   std::to_string(p.right) + "," + std::to_string(p.top) + "," +
                                                   std::to_string(p.bottom) + ") leaves nothing of " + shape_str(x.shape()));
  return s;
}
}  // namespace

void pad2d(vk::Recorder& rec, const Tensor& x, const Pad2d& pad, const Tensor& dst) {
  Shape s = padded_shape(x, pad);
  require(x.dtype() == DType::F32 || x.dtype() == DType::F16,
          std::string("pad2d: F32/F16 only, got ") + dtype_name(x.dtype()));
  if (dst.shape() != s || dst.dtype() != x.dtype())
    throw std::invalid_argument("pad2d: output " + shape_str(dst.shape()) + ", expected " + shape_str(s));
  if (x.numel() == 0) return;
  struct Push {
    uint32_t n, h, w, ho, wo, first_src, first_dst, value_bits;
    int32_t left, top;
  };
  uint32_t bits = 0;
  if (x.dtype() == DType::F16) bits = float_to_half_bits(pad.value);
  else std::memcpy(&bits, &pad.value, 4);
  auto& ctx = rec.context();
  const uint64_t h = uint64_t(x.dim(-2)), w = uint64_t(x.dim(-1)), ho = uint64_t(s[s.size() - 2]), wo = uint64_t(s.back());
  const uint64_t planes = uint64_t(x.numel()) / (h * w);
  vk::PipelineDesc d{bits_variant("pad2d", x.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  for_each_chunk(ctx, planes, std::max(h * w, ho * wo) * dtype_size(x.dtype()), "pad2d", [&](uint64_t p0, uint64_t np) {
    BoundRange rs = bind_elems(ctx, x, p0 * h * w, np * h * w, false);
    BoundRange rd = bind_elems(ctx, dst, p0 * ho * wo, np * ho * wo, true);
    Push p{uint32_t(np * ho * wo), uint32_t(h), uint32_t(w), uint32_t(ho), uint32_t(wo), rs.first, rd.first, bits,
           pad.left, pad.top};
    auto g = grid_1d(np * ho * wo, kLocal);
    rec.dispatch(d, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "pad2d");
  });
}

Tensor pad2d(vk::Recorder& rec, const Tensor& x, const Pad2d& p) {
  Tensor o = empty(rec.context(), padded_shape(x, p), x.dtype());
  pad2d(rec, x, p, o);
  return o;
}

}  // namespace vkf::ops
