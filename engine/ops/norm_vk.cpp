#include <string>

#include "engine/ops/chunk.h"
#include "engine/ops/norm.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {

struct Push {
  uint32_t rows, row_len, row0, groups, cpg, inner;
  uint32_t first_x, first_w, first_b, first_y;
  float eps, divisor;
};

enum Mode : uint32_t { kNormalize = 0, kMean = 1, kVariance = 2 };

struct RowJob {
  Mode mode;
  uint64_t rows, row_len;
  uint32_t groups = 1, cpg = 1, inner = 1;
  float eps = 0, divisor = 1;
  bool silu = false;
  const char* name;
};

// One workgroup per row; rows chunked so that x (and y) bindings fit maxStorageBufferRange.
void record_rows(vk::Recorder& rec, const RowJob& job, const Tensor& x, const Tensor& w, const Tensor& b,
                 const Tensor& y) {
  auto& ctx = rec.context();
  const bool affine = w.defined();
  const uint32_t local = job.row_len >= 2048 ? 256 : 64;
  vk::PipelineDesc d{variant("norm", x.dtype()), 4, sizeof(Push),
                     {{0, local}, {3, job.mode}, {4, affine ? 1u : 0u}, {5, job.silu ? 1u : 0u}}};
  // A row (one group of group_norm: C/groups channels x H*W; one vector of layer_norm / mean / variance) is
  // reduced by one workgroup, so it must fit one binding: the documented limit of these ops.
  const uint64_t row_bytes = job.row_len * dtype_size(x.dtype());
  if (!fits_binding(ctx, row_bytes))
    throw std::invalid_argument(
        std::string(job.name) + ": one " +
        (std::string(job.name) == "group_norm" ? "group (" + std::to_string(job.cpg) + " channels x " + std::to_string(job.inner) +
                                             " elements)"
                                       : "row (" + std::to_string(job.row_len) + " elements)") +
        " of " + shape_str(x.shape()) + " spans " + std::to_string(row_bytes) +
        " bytes, more than one storage-buffer binding (" + std::to_string(binding_limit(ctx)) +
        "); a single normalisation group must fit one binding");
  // Without affine, bindings 1 and 2 alias one element of x (never read). Weight/bias hold one value per
  // channel (C, or the row length D for layer_norm) and are bound whole (bind_all names the op should C
  // values alone ever exceed a binding).
  BoundRange rw = affine ? bind_all(ctx, w, false, job.name) : bind_elems(ctx, x, 0, 1, false);
  BoundRange rb = affine ? bind_all(ctx, b, false, job.name) : rw;
  const uint64_t out_len = job.mode == kNormalize ? job.row_len : 1;
  for_each_chunk(ctx, job.rows, job.row_len * dtype_size(x.dtype()), job.name, [&](uint64_t r0, uint64_t nr) {
    BoundRange rx = bind_elems(ctx, x, r0 * job.row_len, nr * job.row_len, false);
    BoundRange ry = bind_elems(ctx, y, r0 * out_len, nr * out_len, true);
    Push p{uint32_t(nr), uint32_t(job.row_len), uint32_t(r0), job.groups, job.cpg, job.inner,
           rx.first, rw.first, rb.first, ry.first, job.eps, job.divisor};
    auto g = grid_1d(nr, 1);  // workgroups, one per row
    rec.dispatch(d, {rx.arg, rw.arg, rb.arg, ry.arg}, &p, sizeof p, g.x, g.y, 1, job.name);
  });
}

void check_affine(const Tensor& x, const Tensor& w, const Tensor& b, int64_t c, const char* op) {
  require(w.defined() == b.defined(), std::string(op) + ": give both weight and bias or neither");
  if (!w.defined()) return;
  for (const Tensor* t : {&w, &b}) {
    require(t->numel() == c, std::string(op) + ": weight/bias " + shape_str(t->shape()) + " must have " +
                                 std::to_string(c) + " elements for input " + shape_str(x.shape()));
    require(t->dtype() == x.dtype(), std::string(op) + ": weight/bias dtype " + dtype_name(t->dtype()) +
                                         " differs from input " + dtype_name(x.dtype()));
  }
}

}  // namespace

void group_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, const GroupNormParams& p,
                const Tensor& dst) {
  require(x.rank() >= 2, "group_norm: input must be [N, C, ...], got " + shape_str(x.shape()));
  const int64_t c = x.dim(1);
  require(p.groups > 0 && c % p.groups == 0,
          "group_norm: " + std::to_string(c) + " channels not divisible into " + std::to_string(p.groups) + " groups");
  require_same_shape(x, dst, "group_norm");
  require(x.dtype() == dst.dtype(), "group_norm: dtype mismatch");
  check_affine(x, weight, bias, c, "group_norm");
  if (x.numel() == 0) return;
  const uint64_t inner = uint64_t(x.numel() / (x.dim(0) * c)), cpg = uint64_t(c / p.groups);
  RowJob job{kNormalize, uint64_t(x.dim(0)) * uint64_t(p.groups), cpg * inner, uint32_t(p.groups), uint32_t(cpg),
             uint32_t(inner), p.eps, 1.0f, p.silu, "group_norm"};
  record_rows(rec, job, x, weight, bias, dst);
}

Tensor group_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const GroupNormParams& p) {
  Tensor o = empty(rec.context(), x.shape(), x.dtype());
  group_norm(rec, x, weight, bias, p, o);
  return o;
}

void layer_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                const Tensor& dst) {
  require(x.rank() >= 1, "layer_norm: scalar input");
  require_same_shape(x, dst, "layer_norm");
  require(x.dtype() == dst.dtype(), "layer_norm: dtype mismatch");
  const int64_t d = x.dim(-1);
  check_affine(x, weight, bias, d, "layer_norm");
  if (x.numel() == 0) return;
  RowJob job{kNormalize, uint64_t(x.numel() / d), uint64_t(d), 1, uint32_t(d), 1, eps, 1.0f, false, "layer_norm"};
  record_rows(rec, job, x, weight, bias, dst);
}

Tensor layer_norm(vk::Recorder& rec, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  Tensor o = empty(rec.context(), x.shape(), x.dtype());
  layer_norm(rec, x, weight, bias, eps, o);
  return o;
}

namespace {
Tensor row_stat(vk::Recorder& rec, const Tensor& x, Mode mode, float divisor, const char* name) {
  require(x.rank() >= 1 && x.dim(-1) > 0, std::string(name) + ": needs a non-empty last axis, got " + shape_str(x.shape()));
  Shape os = x.shape();
  os.back() = 1;
  Tensor o = empty(rec.context(), os, x.dtype());
  const int64_t d = x.dim(-1);
  RowJob job{mode, uint64_t(x.numel() / d), uint64_t(d), 1, 1, 1, 0.0f, divisor, false, name};
  if (x.numel() > 0) record_rows(rec, job, x, Tensor(), Tensor(), o);
  return o;
}
}  // namespace

Tensor mean(vk::Recorder& rec, const Tensor& x) { return row_stat(rec, x, kMean, 1.0f, "mean"); }

Tensor variance(vk::Recorder& rec, const Tensor& x, bool unbiased) {
  require(x.rank() >= 1, "variance: scalar input");
  float div = float(x.dim(-1) - (unbiased ? 1 : 0));
  require(div > 0, "variance: unbiased variance needs at least 2 elements per row, got " + shape_str(x.shape()));
  return row_stat(rec, x, kVariance, div, "variance");
}

}  // namespace vkf::ops
