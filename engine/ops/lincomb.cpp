#include "engine/ops/lincomb.h"

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

std::vector<float> lincomb_ref(const std::vector<std::pair<float, std::vector<float>>>& terms, float bias, size_t n) {
  std::vector<float> o(n, bias);
  for (size_t i = 0; i < n; ++i) {
    float v = bias;
    for (auto& [c, t] : terms) v += c * t[i];
    o[i] = v;
  }
  return o;
}

namespace {
struct Push {
  uint32_t n, count;
  float c[4];
  float bias;
  uint32_t first[5];  // element offset of each binding's range (4 inputs, output)
};
}  // namespace

void lincomb(vk::Recorder& rec, const Tensor& dst, std::initializer_list<Term> terms, float bias) {
  require(terms.size() >= 1 && terms.size() <= 4, "lincomb: 1 to 4 terms");
  Push p{0, uint32_t(terms.size()), {0, 0, 0, 0}, bias, {0, 0, 0, 0, 0}};
  const Tensor* src[4];
  size_t k = 0;
  for (auto& t : terms) {
    require_same_shape(*t.t, dst, "lincomb");
    require(t.t->dtype() == dst.dtype(), "lincomb: dtype mismatch");
    p.c[k] = t.c;
    src[k++] = t.t;
  }
  for (; k < 4; ++k) src[k] = src[0];  // unused slots alias the first input (never read)
  constexpr uint32_t kLocal = 256;
  vk::PipelineDesc d{variant("lincomb", dst.dtype()), 5, sizeof(Push), {{0, kLocal}}};
  auto& ctx = rec.context();
  // Tensors over maxStorageBufferRange go in chunks, each binding a sub-range of every operand.
  for_each_chunk(ctx, uint64_t(dst.numel()), dtype_size(dst.dtype()), "lincomb", [&](uint64_t b, uint64_t n) {
    vk::BufferArg args[5];
    for (size_t i = 0; i < 5; ++i) {
      BoundRange r = bind_elems(ctx, i < 4 ? *src[i] : dst, b, n, i == 4);
      args[i] = r.arg;
      p.first[i] = r.first;
    }
    p.n = uint32_t(n);
    auto g = grid_1d(n, kLocal);
    rec.dispatch(d, std::span<const vk::BufferArg>(args, 5), &p, sizeof p, g.x, g.y, 1, "lincomb");
  });
}

Tensor lincomb(vk::Recorder& rec, std::initializer_list<Term> terms, float bias) {
  const Tensor& first = *terms.begin()->t;
  Tensor o = empty(rec.context(), first.shape(), first.dtype());
  lincomb(rec, o, terms, bias);
  return o;
}

}  // namespace vkf::ops
