#include "engine/ops/lincomb.h"

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
};
}  // namespace

void lincomb(vk::Recorder& rec, const Tensor& dst, std::initializer_list<Term> terms, float bias) {
  require(terms.size() >= 1 && terms.size() <= 4, "lincomb: 1 to 4 terms");
  Push p{uint32_t(dst.numel()), uint32_t(terms.size()), {0, 0, 0, 0}, bias};
  vk::BufferArg args[5];
  size_t k = 0;
  for (auto& t : terms) {
    require_same_shape(*t.t, dst, "lincomb");
    require(t.t->dtype() == dst.dtype(), "lincomb: dtype mismatch");
    p.c[k] = t.c;
    args[k++] = in(*t.t);
  }
  for (; k < 4; ++k) args[k] = args[0];  // unused slots alias the first input (never read)
  args[4] = out(dst);
  constexpr uint32_t kLocal = 256;
  auto g = grid_1d(dst.numel(), kLocal);
  vk::PipelineDesc d{variant("lincomb", dst.dtype()), 5, sizeof(Push), {{0, kLocal}}};
  rec.dispatch(d, std::span<const vk::BufferArg>(args, 5), &p, sizeof p, g.x, g.y, 1, "lincomb");
}

Tensor lincomb(vk::Recorder& rec, std::initializer_list<Term> terms, float bias) {
  const Tensor& first = *terms.begin()->t;
  Tensor o = empty(rec.context(), first.shape(), first.dtype());
  lincomb(rec, o, terms, bias);
  return o;
}

}  // namespace vkf::ops
