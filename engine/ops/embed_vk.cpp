#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops/chunk.h"
#include "engine/ops/embed.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

namespace {
constexpr uint32_t kLocal = 256;

Shape embedding_shape(const Tensor& ids, const Tensor& table) {
  require(ids.dtype() == DType::I32, std::string("embedding: ids must be I32, got ") + dtype_name(ids.dtype()));
  require(table.rank() == 2 && table.dim(0) > 0, "embedding: table must be [V, D], got " + shape_str(table.shape()));
  require(table.dtype() == DType::F32 || table.dtype() == DType::F16,
          std::string("embedding: table must be F32/F16, got ") + dtype_name(table.dtype()));
  Shape s = ids.shape();
  s.push_back(table.dim(1));
  return s;
}
}  // namespace

void embedding(vk::Recorder& rec, const Tensor& ids, const Tensor& table, const Tensor& dst) {
  Shape s = embedding_shape(ids, table);
  if (dst.shape() != s || dst.dtype() != table.dtype())
    throw std::invalid_argument("embedding: output " + shape_str(dst.shape()) + " " + dtype_name(dst.dtype()) +
                                ", expected " + shape_str(s) + " " + dtype_name(table.dtype()));
  if (dst.numel() == 0) return;
  struct Push {
    uint32_t n, dim, vocab, v0, vcount, first_ids, first_table, first_dst;
  };
  auto& ctx = rec.context();
  const uint64_t dim = uint64_t(table.dim(1)), vocab = uint64_t(table.dim(0)), tokens = uint64_t(ids.numel());
  const uint64_t es = dtype_size(table.dtype());
  vk::PipelineDesc d{variant("embedding", table.dtype()), 3, sizeof(Push), {{0, kLocal}}};
  // Tokens (ids + their output rows) and table rows are chunked independently: each token chunk is
  // matched against every table chunk, a dispatch writing the tokens whose id falls in its table rows.
  for_each_chunk(ctx, tokens, std::max<uint64_t>(dim * es, 4), "embedding", [&](uint64_t t0, uint64_t nt) {
    BoundRange ri = bind_elems(ctx, ids, t0, nt, false), ro = bind_elems(ctx, dst, t0 * dim, nt * dim, true);
    auto g = grid_1d(nt * dim, kLocal);
    for_each_chunk(ctx, vocab, dim * es, "embedding", [&](uint64_t v0, uint64_t nv) {
      BoundRange rt = bind_elems(ctx, table, v0 * dim, nv * dim, false);
      Push p{uint32_t(nt * dim), uint32_t(dim), uint32_t(vocab), uint32_t(v0), uint32_t(nv), ri.first, rt.first, ro.first};
      rec.dispatch(d, {ri.arg, rt.arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "embedding");
    });
  });
}

Tensor embedding(vk::Recorder& rec, const Tensor& ids, const Tensor& table) {
  Tensor o = empty(rec.context(), embedding_shape(ids, table), table.dtype());
  embedding(rec, ids, table, o);
  return o;
}

void timestep_embedding(vk::Recorder& rec, const Tensor& t, const Tensor& dst, float max_period) {
  require(t.rank() == 1 && t.dtype() == DType::F32,
          "timestep_embedding: t must be F32 [B], got " + shape_str(t.shape()) + " " + dtype_name(t.dtype()));
  require(dst.rank() == 2 && dst.dim(0) == t.dim(0) && dst.dim(1) >= 1,
          "timestep_embedding: output " + shape_str(dst.shape()) + " must be [" + std::to_string(t.dim(0)) + ", dim]");
  require(max_period > 0, "timestep_embedding: max_period must be positive");
  if (dst.numel() == 0) return;
  struct Push {
    uint32_t n, dim, half_dim, first_t, first_o;
    float neg_log_period;
  };
  auto& ctx = rec.context();
  const uint32_t dim = uint32_t(dst.dim(1));
  vk::PipelineDesc d{variant("timestep_embedding", dst.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  // Rows of the output (with their timestep) per dispatch, as many as one binding holds.
  const uint64_t row_bytes = std::max<uint64_t>(uint64_t(dim) * dtype_size(dst.dtype()), 4);
  for_each_chunk(ctx, uint64_t(t.dim(0)), row_bytes, "timestep_embedding", [&](uint64_t b0, uint64_t nb) {
    BoundRange rt = bind_elems(ctx, t, b0, nb, false), ro = bind_elems(ctx, dst, b0 * dim, nb * dim, true);
    Push p{uint32_t(nb * dim), dim, dim / 2, rt.first, ro.first, float(-std::log(double(max_period)))};
    auto g = grid_1d(nb * dim, kLocal);
    rec.dispatch(d, {rt.arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "timestep_embedding");
  });
}

Tensor timestep_embedding(vk::Recorder& rec, const Tensor& t, int dim, DType dtype, float max_period) {
  require(dim >= 1, "timestep_embedding: dim must be >= 1");
  Tensor o = empty(rec.context(), {t.dim(0), dim}, dtype);
  timestep_embedding(rec, t, o, max_period);
  return o;
}

}  // namespace vkf::ops
