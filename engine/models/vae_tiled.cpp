#include "engine/models/vae_tiled.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/image_layout.h"

namespace vkf::models {

std::vector<int64_t> tile_starts(int64_t n, int64_t tile, int64_t overlap) {
  if (tile >= n) return {0};
  int64_t step = std::max<int64_t>(1, tile - overlap);
  std::vector<int64_t> s;
  for (int64_t p = 0;; p += step) {
    if (p + tile >= n) {
      s.push_back(n - tile);
      break;
    }
    s.push_back(p);
  }
  return s;
}

Tensor run_tiled(vk::Recorder& rec, const Tensor& x, const TileSpec& spec, int64_t out_channels,
                 const std::function<Tensor(vk::Recorder&, const Tensor&)>& fn, const std::function<void(int, int)>& progress) {
  if (x.rank() != 4) throw std::invalid_argument("tiled pass: expected NCHW input, got " + shape_str(x.shape()));
  if (spec.tile <= spec.overlap || spec.tile <= 0) throw std::invalid_argument("tile size must be larger than the overlap");
  const int64_t H = x.dim(2), W = x.dim(3);
  const int64_t th = std::min(spec.tile, H), tw = std::min(spec.tile, W);
  auto ys = tile_starts(H, th, spec.overlap), xs = tile_starts(W, tw, spec.overlap);
  auto acc = ops::tile_accumulator(rec, x.dim(0), out_channels, H * spec.num / spec.den, W * spec.num / spec.den);
  const int64_t feather = spec.overlap * spec.num / spec.den;
  int done = 0, total = int(ys.size() * xs.size());
  for (size_t iy = 0; iy < ys.size(); ++iy)
    for (size_t ix = 0; ix < xs.size(); ++ix) {
      Tensor in = ops::crop2d(rec, x, ys[iy], xs[ix], th, tw);
      Tensor out = fn(rec, in);
      uint32_t edges = (iy > 0 ? 1u : 0u) | (iy + 1 < ys.size() ? 2u : 0u) | (ix > 0 ? 4u : 0u) | (ix + 1 < xs.size() ? 8u : 0u);
      ops::tile_add(rec, acc, out, ys[iy] * spec.num / spec.den, xs[ix] * spec.num / spec.den, feather, edges);
      rec.submit();
      if (progress) progress(++done, total);
    }
  return ops::tile_finish(rec, acc);
}

}  // namespace vkf::models
