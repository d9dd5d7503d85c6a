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
  const uint64_t dim = uint64_t(table.dim(1)), vocab = uint64_t(table.dim(0));
  BoundRange ri = bind_all(ctx, ids, false, "embedding"), ro = bind_all(ctx, dst, true, "embedding");
  vk::PipelineDesc d{variant("embedding", table.dtype()), 3, sizeof(Push), {{0, kLocal}}};
  auto g = grid_1d(uint64_t(dst.numel()), kLocal);
  // Each dispatch binds a block of table rows and writes the tokens whose id falls inside it.
  for_each_chunk(ctx, vocab, dim * dtype_size(table.dtype()), "embedding", [&](uint64_t v0, uint64_t nv) {
    BoundRange rt = bind_elems(ctx, table, v0 * dim, nv * dim, false);
    Push p{uint32_t(dst.numel()), uint32_t(dim), uint32_t(vocab), uint32_t(v0), uint32_t(nv), ri.first, rt.first, ro.first};
    rec.dispatch(d, {ri.arg, rt.arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "embedding");
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
  BoundRange rt = bind_all(ctx, t, false, "timestep_embedding"), ro = bind_all(ctx, dst, true, "timestep_embedding");
  const uint32_t dim = uint32_t(dst.dim(1));
  Push p{uint32_t(dst.numel()), dim, dim / 2, rt.first, ro.first, float(-std::log(double(max_period)))};
  vk::PipelineDesc d{variant("timestep_embedding", dst.dtype()), 2, sizeof(Push), {{0, kLocal}}};
  auto g = grid_1d(uint64_t(dst.numel()), kLocal);
  rec.dispatch(d, {rt.arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "timestep_embedding");
}

Tensor timestep_embedding(vk::Recorder& rec, const Tensor& t, int dim, DType dtype, float max_period) {
  require(dim >= 1, "timestep_embedding: dim must be >= 1");
  Tensor o = empty(rec.context(), {t.dim(0), dim}, dtype);
  timestep_embedding(rec, t, o, max_period);
  return o;
}

}  // namespace vkf::ops
