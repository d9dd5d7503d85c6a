#include "engine/ops/image_layout.h"

#include <algorithm>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {
namespace {
struct LayoutPush {
  uint32_t n, nb, nc, nr, W, C, mode, srcH, srcW, srcC, x0, c0, first_in, first_out;
};
struct BlendPush {
  uint32_t n, H, W, th, tw, y0, nr, bc0, feather, edges, mode, plane, first_tile, first_acc, first_w;
};
constexpr uint32_t kLocal = 256;

BoundRange read_alias(BoundRange r) {  // an unused shader slot bound to a range the dispatch already binds
  r.arg.write = false;
  return r;
}
}  // namespace

// Both directions chunk over whole images while one fits a binding, else over (image, channel, band of
// rows): a channel's rows are contiguous in NCHW and a band of rows is contiguous in BHWC.
Tensor vae_to_image(vk::Recorder& rec, const Tensor& x) {
  require(x.rank() == 4, "vae_to_image: expected NCHW, got " + shape_str(x.shape()));
  const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor o = empty(rec.context(), {B, H, W, C}, DType::F32);
  if (o.numel() == 0) return o;
  auto& ctx = rec.context();
  const uint64_t hw = uint64_t(H * W), c = uint64_t(C), w = uint64_t(W);
  auto record = [&](uint64_t b0, uint64_t nb, uint64_t c0, uint64_t nc, uint64_t r0, uint64_t nr) {
    const uint64_t n = nb * nc * nr * w;
    BoundRange ri = bind_elems(ctx, x, (b0 * c + c0) * hw + r0 * w, n, false);
    BoundRange ro = bind_elems(ctx, o, ((b0 * uint64_t(H) + r0) * w) * c + c0, (nb * nr * w - 1) * c + nc, true);
    LayoutPush p{uint32_t(n), uint32_t(nb), uint32_t(nc), uint32_t(nr), uint32_t(W), uint32_t(C), 0, 0, 0, 0, 0, 0,
                 ri.first, ro.first};
    auto g = grid_1d(n, kLocal);
    // unused bindings alias a used range of the right kind; the shader never touches them in this mode
    rec.dispatch({variant("image_layout", x.dtype()), 4, sizeof p, {{0, kLocal}}},
                 {ri.arg, read_alias(ro).arg, read_alias(ri).arg, ro.arg}, &p, sizeof p, g.x, g.y, 1, "vae_to_image");
  };
  const uint64_t image_bytes = std::max<uint64_t>(c * hw * dtype_size(x.dtype()), c * hw * 4);
  if (fits_binding(ctx, image_bytes)) {
    for_each_chunk(ctx, uint64_t(B), image_bytes, "vae_to_image",
                   [&](uint64_t b0, uint64_t nb) { record(b0, nb, 0, c, 0, uint64_t(H)); });
    return o;
  }
  const uint64_t step = max_chunk_units(ctx, w * c * 4, "vae_to_image");
  for (uint64_t pl = 0; pl < uint64_t(B) * c; ++pl)
    for (uint64_t r0 = 0; r0 < uint64_t(H); r0 += step) record(pl / c, 1, pl % c, 1, r0, std::min(step, uint64_t(H) - r0));
  return o;
}

Tensor image_to_vae(vk::Recorder& rec, const Tensor& img, int64_t y0, int64_t x0, int64_t H, int64_t W, int64_t C, DType dtype) {
  require(img.rank() == 4 && img.dtype() == DType::F32, "image_to_vae: IMAGE must be f32 [B,H,W,C], got " + shape_str(img.shape()));
  require(y0 >= 0 && x0 >= 0 && y0 + H <= img.dim(1) && x0 + W <= img.dim(2) && C <= img.dim(3),
          "image_to_vae: window outside the image");
  const int64_t B = img.dim(0);
  Tensor o = empty(rec.context(), {B, C, H, W}, dtype);
  if (o.numel() == 0) return o;
  auto& ctx = rec.context();
  const uint64_t sH = uint64_t(img.dim(1)), sW = uint64_t(img.dim(2)), sC = uint64_t(img.dim(3));
  const uint64_t c = uint64_t(C), h = uint64_t(H), w = uint64_t(W);
  auto record = [&](uint64_t b0, uint64_t nb, uint64_t c0, uint64_t nc, uint64_t r0, uint64_t nr) {
    const uint64_t n = nb * nc * nr * w;
    const uint64_t begin = (b0 * sH + uint64_t(y0) + r0) * sW * sC;
    const uint64_t end = (((nb - 1) * sH + nr - 1) * sW + uint64_t(x0) + w - 1) * sC + c0 + nc;  // relative to begin
    BoundRange ri = bind_elems(ctx, img, begin, end, false);
    BoundRange ro = bind_elems(ctx, o, (b0 * c + c0) * h * w + r0 * w, n, true);
    LayoutPush p{uint32_t(n), uint32_t(nb), uint32_t(nc), uint32_t(nr), uint32_t(W), uint32_t(C), 1, uint32_t(sH),
                 uint32_t(sW), uint32_t(sC), uint32_t(x0), uint32_t(c0), ri.first, ro.first};
    auto g = grid_1d(n, kLocal);
    rec.dispatch({variant("image_layout", dtype), 4, sizeof p, {{0, kLocal}}},
                 {read_alias(ro).arg, ri.arg, ro.arg, read_alias(ri).arg}, &p, sizeof p, g.x, g.y, 1, "image_to_vae");
  };
  const uint64_t image_bytes = std::max<uint64_t>(sH * sW * sC * 4, c * h * w * dtype_size(dtype));
  if (fits_binding(ctx, image_bytes)) {
    for_each_chunk(ctx, uint64_t(B), image_bytes, "image_to_vae",
                   [&](uint64_t b0, uint64_t nb) { record(b0, nb, 0, c, 0, h); });
    return o;
  }
  const uint64_t step = max_chunk_units(ctx, std::max<uint64_t>(sW * sC * 4, w * dtype_size(dtype)), "image_to_vae");
  for (uint64_t pl = 0; pl < uint64_t(B) * c; ++pl)
    for (uint64_t r0 = 0; r0 < h; r0 += step) record(pl / c, 1, pl % c, 1, r0, std::min(step, h - r0));
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
  require(tile.rank() == 4 && tile.dim(0) == s[0] && tile.dim(1) == s[1] && oy >= 0 && ox >= 0 &&
              oy + tile.dim(2) <= s[2] && ox + tile.dim(3) <= s[3],
          "tile_add: tile " + shape_str(tile.shape()) + " does not fit " + shape_str(s));
  if (tile.numel() == 0) return;
  auto& ctx = rec.context();
  const uint64_t H = uint64_t(s[2]), W = uint64_t(s[3]), th = uint64_t(tile.dim(2)), tw = uint64_t(tile.dim(3));
  const uint64_t es = dtype_size(tile.dtype());
  vk::PipelineDesc d{variant("tile_blend", tile.dtype()), 3, sizeof(BlendPush), {{0, kLocal}}};
  // Planes (b, c) of the tile, or bands of one plane's rows; acc/wsum are bound from the block's corner.
  for_each_plane_chunk(ctx, uint64_t(s[0] * s[1]), th, std::max(th * tw * es, H * W * 4), std::max(tw * es, W * 4),
                       "tile_add", [&](const PlaneChunk& k) {
    const uint64_t n = k.planes * k.rows * tw, corner = (uint64_t(oy) + k.row0) * W + uint64_t(ox);
    BoundRange rt = bind_elems(ctx, tile, (k.plane0 * th + k.row0) * tw, n, false);
    BoundRange ra = bind_elems(ctx, a.acc, k.plane0 * H * W + corner, ((k.planes - 1) * H + k.rows - 1) * W + tw, true);
    BoundRange rw = bind_elems(ctx, a.wsum, corner, (k.rows - 1) * W + tw, true);
    BlendPush p{uint32_t(n), uint32_t(H), uint32_t(W), uint32_t(th), uint32_t(tw), uint32_t(k.row0), uint32_t(k.rows),
                uint32_t(k.plane0), uint32_t(feather), edges, 0, 0, rt.first, ra.first, rw.first};
    auto g = grid_1d(n, kLocal);
    rec.dispatch(d, {rt.arg, ra.arg, rw.arg}, &p, sizeof p, g.x, g.y, 1, "tile_add");
  });
}

Tensor tile_finish(vk::Recorder& rec, TileAccumulator& a) {
  const auto& s = a.acc.shape();
  if (a.acc.numel() == 0) return a.acc;
  auto& ctx = rec.context();
  const uint64_t H = uint64_t(s[2]), W = uint64_t(s[3]);
  vk::PipelineDesc d{"tile_blend", 3, sizeof(BlendPush), {{0, kLocal}}};
  for_each_plane_chunk(ctx, uint64_t(s[0] * s[1]), H, H * W * 4, W * 4, "tile_finish", [&](const PlaneChunk& k) {
    const uint64_t n = k.planes * k.rows * W;
    BoundRange ra = bind_elems(ctx, a.acc, (k.plane0 * H + k.row0) * W, n, true);
    BoundRange rw = bind_elems(ctx, a.wsum, k.row0 * W, k.rows * W, true);
    BlendPush p{uint32_t(n), uint32_t(H), uint32_t(W), 0, 0, 0, 0, 0, 0, 0, 1, uint32_t(k.rows * W), 0, ra.first, rw.first};
    auto g = grid_1d(n, kLocal);
    // tile_blend binding 0 is only read in mode 0; bind the wsum range there (same dtype f32 variant).
    rec.dispatch(d, {read_alias(rw).arg, ra.arg, rw.arg}, &p, sizeof p, g.x, g.y, 1, "tile_finish");
  });
  return a.acc;
}

}  // namespace vkf::ops

namespace vkf::ops {
Tensor crop2d(vk::Recorder& rec, const Tensor& x, int64_t y0, int64_t x0, int64_t h, int64_t w) {
  require(x.rank() == 4 && y0 >= 0 && x0 >= 0 && h >= 0 && w >= 0 && y0 + h <= x.dim(2) && x0 + w <= x.dim(3),
          "crop2d: window outside " + shape_str(x.shape()));
  Tensor o = empty(rec.context(), {x.dim(0), x.dim(1), h, w}, x.dtype());
  if (o.numel() == 0) return o;
  auto& ctx = rec.context();
  const uint64_t H = uint64_t(x.dim(2)), W = uint64_t(x.dim(3)), es = dtype_size(x.dtype());
  struct {
    uint32_t n, nr, H, W, w, x0, first_src, first_dst;
  } p{};
  vk::PipelineDesc d{variant("crop2d", x.dtype()), 2, sizeof p, {{0, 256}}};
  // Whole planes, or bands of output rows of one plane; the source binding starts at the band's row.
  for_each_plane_chunk(ctx, uint64_t(x.dim(0) * x.dim(1)), uint64_t(h), std::max(H * W, uint64_t(h * w)) * es, W * es,
                       "crop2d", [&](const PlaneChunk& k) {
    const uint64_t n = k.planes * k.rows * uint64_t(w);
    BoundRange rs = bind_elems(ctx, x, (k.plane0 * H + uint64_t(y0) + k.row0) * W,
                               ((k.planes - 1) * H + k.rows - 1) * W + uint64_t(x0 + w), false);
    BoundRange rd = bind_elems(ctx, o, (k.plane0 * uint64_t(h) + k.row0) * uint64_t(w), n, true);
    p = {uint32_t(n), uint32_t(k.rows), uint32_t(H), uint32_t(W), uint32_t(w), uint32_t(x0), rs.first, rd.first};
    auto g = grid_1d(n, 256);
    rec.dispatch(d, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "crop2d");
  });
  return o;
}
}  // namespace vkf::ops
