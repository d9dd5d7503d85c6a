#include "engine/ops/image_scale.h"

#include <algorithm>
#include <cmath>

#include "engine/ops/chunk.h"
#include "engine/ops/op_common.h"

namespace vkf::ops {

const std::vector<std::string>& scale_mode_names() {
  static const std::vector<std::string> n = {"nearest-exact", "bilinear", "area", "bicubic"};
  return n;
}

ScaleMode parse_scale_mode(const std::string& name) {
  if (name == "nearest-exact" || name == "nearest") return ScaleMode::NearestExact;
  if (name == "bilinear") return ScaleMode::Bilinear;
  if (name == "bicubic") return ScaleMode::Bicubic;
  if (name == "area") return ScaleMode::Area;
  throw std::invalid_argument("unknown upscale_method '" + name + "' (nearest-exact, bilinear, area, bicubic)");
}

CropWindow center_crop(int64_t H, int64_t W, int64_t OH, int64_t OW) {
  // ComfyUI common_upscale: old_aspect = W/H, new_aspect = OW/OH; trim the longer side symmetrically.
  double old_a = double(W) / double(H), new_a = double(OW) / double(OH);
  CropWindow c{0, 0, W, H};
  if (old_a > new_a) {
    int64_t x = int64_t(std::round((double(W) - double(W) * (new_a / old_a)) / 2.0));
    c.x0 = x;
    c.w = W - 2 * x;
  } else if (old_a < new_a) {
    int64_t y = int64_t(std::round((double(H) - double(H) * (old_a / new_a)) / 2.0));
    c.y0 = y;
    c.h = H - 2 * y;
  }
  return c;
}

namespace {
float cubic_w(float t, int k) {
  const float A = -0.75f;
  float x = k == 0 ? t + 1.0f : k == 1 ? t : k == 2 ? 1.0f - t : 2.0f - t;
  if (k == 1 || k == 2) return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
  return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
}
}  // namespace

std::vector<float> image_scale_ref(const std::vector<float>& src, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH,
                                   int64_t OW, ScaleMode mode, CropWindow cr) {
  std::vector<float> out(size_t(B * OH * OW * C));
  auto at = [&](int64_t b, int64_t y, int64_t x, int64_t c) {
    y = std::clamp<int64_t>(y, 0, cr.h - 1);
    x = std::clamp<int64_t>(x, 0, cr.w - 1);
    return src[size_t(((b * H + cr.y0 + y) * W + cr.x0 + x) * C + c)];
  };
  float sy = float(cr.h) / float(OH), sx = float(cr.w) / float(OW);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox)
        for (int64_t c = 0; c < C; ++c) {
          float v = 0;
          if (mode == ScaleMode::NearestExact) {
            v = at(b, std::min<int64_t>(int64_t(std::floor((oy + 0.5f) * sy)), cr.h - 1),
                   std::min<int64_t>(int64_t(std::floor((ox + 0.5f) * sx)), cr.w - 1), c);
          } else if (mode == ScaleMode::Bilinear) {
            float fy = std::max((oy + 0.5f) * sy - 0.5f, 0.0f), fx = std::max((ox + 0.5f) * sx - 0.5f, 0.0f);
            int64_t y0 = int64_t(std::floor(fy)), x0 = int64_t(std::floor(fx));
            float ly = fy - float(y0), lx = fx - float(x0);
            v = (1 - ly) * ((1 - lx) * at(b, y0, x0, c) + lx * at(b, y0, x0 + 1, c)) +
                ly * ((1 - lx) * at(b, y0 + 1, x0, c) + lx * at(b, y0 + 1, x0 + 1, c));
          } else if (mode == ScaleMode::Bicubic) {
            float fy = (oy + 0.5f) * sy - 0.5f, fx = (ox + 0.5f) * sx - 0.5f;
            int64_t y0 = int64_t(std::floor(fy)), x0 = int64_t(std::floor(fx));
            float ty = fy - float(y0), tx = fx - float(x0);
            for (int ky = 0; ky < 4; ++ky) {
              float row = 0;
              for (int kx = 0; kx < 4; ++kx) row += cubic_w(tx, kx) * at(b, y0 - 1 + ky, x0 - 1 + kx, c);
              v += cubic_w(ty, ky) * row;
            }
          } else {
            int64_t ys = oy * cr.h / OH, ye = ((oy + 1) * cr.h + OH - 1) / OH;
            int64_t xs = ox * cr.w / OW, xe = ((ox + 1) * cr.w + OW - 1) / OW;
            for (int64_t y = ys; y < ye; ++y)
              for (int64_t x = xs; x < xe; ++x) v += at(b, y, x, c);
            v /= float((ye - ys) * (xe - xs));
          }
          out[size_t(((b * OH + oy) * OW + ox) * C + c)] = v;
        }
  return out;
}

Tensor image_scale(vk::Recorder& rec, const Tensor& src, int64_t OH, int64_t OW, ScaleMode mode, bool center) {
  require(src.rank() == 4 && src.dtype() == DType::F32, "image_scale: IMAGE must be f32 [B,H,W,C], got " + shape_str(src.shape()));
  require(OH > 0 && OW > 0, "image_scale: target size must be positive");
  const int64_t B = src.dim(0), H = src.dim(1), W = src.dim(2), C = src.dim(3);
  CropWindow cr = center ? center_crop(H, W, OH, OW) : CropWindow{0, 0, W, H};
  Tensor o = empty(rec.context(), {B, OH, OW, C}, DType::F32);
  if (o.numel() == 0 || src.numel() == 0) return o;
  struct Push {
    uint32_t B, H, W, C, OH, OW, x0, y0, cw, ch, mode, oy0, nrows, row_base, first_src, first_dst;
  };
  constexpr uint32_t kLocal = 256;
  auto& ctx = rec.context();
  const uint64_t in_row = uint64_t(W * C), out_row = uint64_t(OW * C);
  auto record = [&](uint64_t b0, uint64_t nb, uint64_t oy0, uint64_t ny, uint64_t sy0, uint64_t sy1) {
    BoundRange rs = bind_elems(ctx, src, (b0 * uint64_t(H) + sy0) * in_row, ((nb - 1) * uint64_t(H) + sy1 - sy0) * in_row,
                               false);
    BoundRange rd = bind_elems(ctx, o, (b0 * uint64_t(OH) + oy0) * out_row, nb * ny * out_row, true);
    Push p{uint32_t(nb), uint32_t(H), uint32_t(W), uint32_t(C), uint32_t(OH), uint32_t(OW), uint32_t(cr.x0),
           uint32_t(cr.y0), uint32_t(cr.w), uint32_t(cr.h), uint32_t(mode), uint32_t(oy0), uint32_t(ny),
           uint32_t(sy0), rs.first, rd.first};
    auto g = grid_1d(nb * ny * out_row, kLocal);
    rec.dispatch({"image_scale", 2, sizeof p, {{0, kLocal}}}, {rs.arg, rd.arg}, &p, sizeof p, g.x, g.y, 1, "image_scale");
  };
  const uint64_t img_bytes = std::max(uint64_t(H) * in_row, uint64_t(OH) * out_row) * 4;
  if (fits_binding(ctx, img_bytes)) {  // whole images per dispatch
    for_each_chunk(ctx, uint64_t(B), img_bytes, "image_scale",
                   [&](uint64_t b0, uint64_t nb) { record(b0, nb, 0, uint64_t(OH), 0, uint64_t(H)); });
    return o;
  }
  // One image is larger than a binding: bands of output rows. Every mode reads, for output rows [a, e),
  // source rows (of the crop window) within [floor(a*ch/OH) - 2, ceil(e*ch/OH) + 2] (bicubic taps reach
  // 2 rows out, bilinear 1); one more row each side absorbs the shader's float rounding.
  const uint64_t room_out = max_chunk_units(ctx, out_row * 4, "image_scale");
  const uint64_t room_in = max_chunk_units(ctx, in_row * 4, "image_scale");  // source rows per binding
  const uint64_t margin = 10;  // source rows a band may need beyond band * ch / OH (see above)
  const uint64_t ch = uint64_t(cr.h);
  uint64_t band = room_in > margin ? (room_in - margin) * uint64_t(OH) / ch : 0;
  band = std::min<uint64_t>({band, room_out, uint64_t(OH)});
  require(band >= 1, "image_scale: one output row of " + shape_str(o.shape()) + " needs more source rows of " +
                         shape_str(src.shape()) + " than one storage binding (" +
                         std::to_string(binding_limit(ctx)) + " bytes) holds");
  for (uint64_t b = 0; b < uint64_t(B); ++b)
    for (uint64_t a = 0; a < uint64_t(OH); a += band) {
      const uint64_t e = std::min<uint64_t>(uint64_t(OH), a + band);
      const int64_t lo = int64_t(a * ch / uint64_t(OH)) - 3, hi = int64_t((e * ch + uint64_t(OH) - 1) / uint64_t(OH)) + 3;
      const uint64_t s0 = uint64_t(cr.y0 + std::clamp<int64_t>(lo, 0, cr.h - 1));
      const uint64_t s1 = uint64_t(cr.y0 + std::clamp<int64_t>(hi, 0, cr.h - 1)) + 1;
      record(b, 1, a, e - a, s0, s1);
    }
  return o;
}

}  // namespace vkf::ops
