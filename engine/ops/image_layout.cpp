#include "engine/ops/image_layout.h"

#include "engine/ops/op_common.h"

namespace vkf::ops {
namespace {
struct LayoutPush {
  uint32_t B, C, H, W, mode, srcH, srcW, srcC, y0, x0;
};
struct BlendPush {
  uint32_t B, C, H, W, th, tw, oy, ox, feather, edges, mode;
};
constexpr uint32_t kLocal = 256;
}  // namespace

Tensor vae_to_image(vk::Recorder& rec, const Tensor& x) {
  require(x.rank() == 4, "vae_to_image: expected NCHW, got " + shape_str(x.shape()));
  const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor o = empty(rec.context(), {B, H, W, C}, DType::F32);
  LayoutPush p{uint32_t(B), uint32_t(C), uint32_t(H), uint32_t(W), 0, 0, 0, 0, 0, 0};
  auto g = grid_1d(uint64_t(o.numel()), kLocal);
  // unused bindings alias a used buffer of the right kind; the shader never touches them in this mode
  rec.dispatch({variant("image_layout", x.dtype()), 4, sizeof p, {{0, kLocal}}}, {in(x), in(o), in(x), out(o)}, &p, sizeof p,
               g.x, g.y, 1, "vae_to_image");
  return o;
}

Tensor image_to_vae(vk::Recorder& rec, const Tensor& img, int64_t y0, int64_t x0, int64_t H, int64_t W, int64_t C, DType dtype) {
  require(img.rank() == 4 && img.dtype() == DType::F32, "image_to_vae: IMAGE must be f32 [B,H,W,C], got " + shape_str(img.shape()));
  require(y0 + H <= img.dim(1) && x0 + W <= img.dim(2) && C <= img.dim(3), "image_to_vae: window outside the image");
  const int64_t B = img.dim(0);
  Tensor o = empty(rec.context(), {B, C, H, W}, dtype);
  LayoutPush p{uint32_t(B), uint32_t(C), uint32_t(H), uint32_t(W), 1, uint32_t(img.dim(1)), uint32_t(img.dim(2)),
               uint32_t(img.dim(3)), uint32_t(y0), uint32_t(x0)};
  auto g = grid_1d(uint64_t(o.numel()), kLocal);
  rec.dispatch({variant("image_layout", dtype), 4, sizeof p, {{0, kLocal}}}, {in(o), in(img), out(o), in(img)}, &p, sizeof p,
               g.x, g.y, 1, "image_to_vae");
  return o;
}

TileAccumulator tile_accumulator(vk::Recorder& rec, int64_t B, int64_t C, int64_t H, int64_t W) {
  TileAccumulator a{empty(rec.context(), {B, C, H, W}, DType::F32), empty(rec.context(), {H, W}, DType::F32)};
  rec.fill(out(a.acc), 0);
  rec.fill(out(a.wsum), 0);
  return a;
}

void tile_add(vk::Recorder& rec, TileAccumulator& a, const Tensor& tile, int64_t oy, int64_t ox, int64_t feather, uint32_t edges) {
  const auto& s = a.acc.shape();
  require(tile.rank() == 4 && tile.dim(0) == s[0] && tile.dim(1) == s[1] && oy + tile.dim(2) <= s[2] && ox + tile.dim(3) <= s[3],
          "tile_add: tile " + shape_str(tile.shape()) + " does not fit " + shape_str(s));
  BlendPush p{uint32_t(s[0]), uint32_t(s[1]), uint32_t(s[2]), uint32_t(s[3]), uint32_t(tile.dim(2)), uint32_t(tile.dim(3)),
              uint32_t(oy), uint32_t(ox), uint32_t(feather), edges, 0};
  auto g = grid_1d(uint64_t(tile.numel()), kLocal);
  rec.dispatch({variant("tile_blend", tile.dtype()), 3, sizeof p, {{0, kLocal}}}, {in(tile), out(a.acc), out(a.wsum)}, &p,
               sizeof p, g.x, g.y, 1, "tile_add");
}

Tensor tile_finish(vk::Recorder& rec, TileAccumulator& a) {
  const auto& s = a.acc.shape();
  BlendPush p{uint32_t(s[0]), uint32_t(s[1]), uint32_t(s[2]), uint32_t(s[3]), 0, 0, 0, 0, 0, 0, 1};
  auto g = grid_1d(uint64_t(a.acc.numel()), kLocal);
  // tile_blend binding 0 is only read in mode 0; bind wsum there (same dtype f32 variant).
  rec.dispatch({"tile_blend", 3, sizeof p, {{0, kLocal}}}, {in(a.wsum), out(a.acc), out(a.wsum)}, &p, sizeof p, g.x, g.y, 1,
               "tile_finish");
  return a.acc;
}

}  // namespace vkf::ops

namespace vkf::ops {
Tensor crop2d(vk::Recorder& rec, const Tensor& x, int64_t y0, int64_t x0, int64_t h, int64_t w) {
  require(x.rank() == 4 && y0 >= 0 && x0 >= 0 && y0 + h <= x.dim(2) && x0 + w <= x.dim(3),
          "crop2d: window outside " + shape_str(x.shape()));
  Tensor o = empty(rec.context(), {x.dim(0), x.dim(1), h, w}, x.dtype());
  struct {
    uint32_t BC, H, W, h, w, y0, x0;
  } p{uint32_t(x.dim(0) * x.dim(1)), uint32_t(x.dim(2)), uint32_t(x.dim(3)), uint32_t(h), uint32_t(w), uint32_t(y0), uint32_t(x0)};
  auto g = grid_1d(uint64_t(o.numel()), 256);
  rec.dispatch({variant("crop2d", x.dtype()), 2, sizeof p, {{0, 256}}}, {in(x), out(o)}, &p, sizeof p, g.x, g.y, 1, "crop2d");
  return o;
}
}  // namespace vkf::ops
