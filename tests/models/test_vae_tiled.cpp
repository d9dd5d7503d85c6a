// Tiled VAE decode/encode (VAEDecodeTiled/VAEEncodeTiled): every tile's bindings are tile-sized. The tiling
// and feathered blending are checked exactly with a local operator (nearest 2x upsampling: any correct
// blend of overlapping tiles reproduces it exactly); the real VAE only approximately agrees with a one-shot
// pass, because GroupNorm statistics are taken per tile (as in ComfyUI's tiled VAE) and its receptive field
// exceeds the overlap.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/models/checkpoint.h"
#include "engine/models/vae_tiled.h"
#include "engine/ops/movement.h"
#include "engine/sampling/torch_rng.h"
#include "tests/support/gpu.h"

using namespace vkf;

namespace {
float mean_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return float(s / double(a.size()));
}
// Config A's VAE alone, f32.
std::shared_ptr<models::Checkpoint> load_tiny_vae(vk::Context& ctx) {
  const std::string dir = std::string(VKFLOW_SHARED_DIR) + "/golden/sd1_tiny_a/";
  models::LoadOptions lo;
  lo.config = dir + "config.json";
  lo.dtype = DType::F32;
  lo.unet = lo.text = false;
  return models::load_checkpoint(ctx, dir + "ckpt.safetensors", lo);
}
}  // namespace

TEST_CASE("tile origins cover the axis and end aligned", "[cpu][models][vae_tiled]") {
  CHECK(models::tile_starts(10, 16, 4) == std::vector<int64_t>{0});
  CHECK(models::tile_starts(40, 16, 4) == std::vector<int64_t>{0, 12, 24});
  CHECK(models::tile_starts(41, 16, 4) == std::vector<int64_t>{0, 12, 24, 25});
}

TEST_CASE("tiling and blending reproduce a local operator exactly", "[models][vae_tiled]") {
  auto& ctx = test::gpu();
  const Shape shape{2, 3, 19, 30};
  auto h = test::random_floats(size_t(shape_numel(shape)), 9);
  Tensor x = from_host(ctx, shape, h);
  vk::Recorder rec(ctx);
  Tensor full = ops::upsample_nearest2x(rec, x);
  int tiles = 0;
  Tensor tiled = models::run_tiled(rec, x, {8, 3, 2, 1}, 3, [](vk::Recorder& r, const Tensor& t) { return ops::upsample_nearest2x(r, t); },
                                   [&](int, int n) { tiles = n; });
  rec.submit();
  REQUIRE(tiled.shape() == full.shape());
  CHECK(tiles == 4 * 6);  // starts 0,5,10,11 over 19 rows; 0,5,...,22 over 30 columns
  CHECK(test::max_abs_diff(to_host(ctx, tiled), to_host(ctx, full)) <= 1e-6f);  // weights normalise exactly
}

TEST_CASE("tiled VAE decode and encode stay close to the one-shot pass", "[models][vae_tiled]") {
  auto& ctx = test::gpu();
  auto ck = load_tiny_vae(ctx);
  const auto& vae = *ck->vae;
  const int64_t f = ck->config.vae.downsample_factor();

  auto zh = sampling::torch_randn(3, {1, 4, 20, 28});
  Tensor z = from_host(ctx, {1, 4, 20, 28}, zh);
  vk::Recorder rec(ctx);
  Tensor full = vae.decode(rec, z);
  rec.submit();
  auto ref = to_host(ctx, full);
  int tiles = 0;
  Tensor tiled = models::run_tiled(rec, z, {12, 4, f, 1}, 3, [&](vk::Recorder& r, const Tensor& t) { return vae.decode(r, t); },
                                   [&](int, int n) { tiles = n; });
  rec.submit();
  auto got = to_host(ctx, tiled);
  REQUIRE(tiled.shape() == full.shape());
  CHECK(tiles == 6);  // 2 rows x 3 columns of 12x12 latent tiles
  const float range = test::max_abs(ref);
  float mad = mean_abs_diff(got, ref);
  WARN("tiled decode: mean |tiled - full| = " << mad << " (output range " << range << "), max " << test::max_abs_diff(got, ref));
  // Per-tile GroupNorm statistics shift whole tiles a little on this tiny random model (12-latent tiles).
  CHECK(mad < 0.1f * range);
  for (float v : got) REQUIRE(std::isfinite(v));

  // encode: image tiles of 16 px with 4 px overlap -> latent tiles
  auto img = test::random_floats(size_t(3 * 40 * 56), 5, -1.0f, 1.0f);
  Tensor x = from_host(ctx, {1, 3, 40, 56}, img);
  Tensor mean_full = vae.encode(rec, x).mean;
  rec.submit();
  auto eref = to_host(ctx, mean_full);
  Tensor mean_tiled = models::run_tiled(rec, x, {16, 4, 1, f}, 4, [&](vk::Recorder& r, const Tensor& t) { return vae.encode(r, t).mean; });
  rec.submit();
  auto egot = to_host(ctx, mean_tiled);
  REQUIRE(mean_tiled.shape() == mean_full.shape());
  float emad = mean_abs_diff(egot, eref);
  WARN("tiled encode: mean |tiled - full| = " << emad << " (range " << test::max_abs(eref) << ")");
  CHECK(emad < 0.2f * test::max_abs(eref));
}

TEST_CASE("tiled VAE decode binds tile-sized buffers only", "[models][vae_tiled]") {
  // What lets a 1024x1024 SD decode fit lavapipe's 128 MiB binding range: with tiles, the widest binding
  // is one tile's widest activation (channels x tile pixels), independent of the image size.
  auto& ctx = test::gpu();
  auto ck = load_tiny_vae(ctx);
  const auto& vc = ck->config.vae;
  const int64_t f = vc.downsample_factor(), tile = 16, n = 48;
  int64_t cmax = 0;
  for (int m : vc.ch_mult) cmax = std::max<int64_t>(cmax, int64_t(vc.ch) * m);
  Tensor z = from_host(ctx, {1, 4, n, n}, sampling::torch_randn(4, {1, 4, n, n}));

  vk::Recorder whole(ctx);
  Tensor full = ck->vae->decode(whole, z);
  whole.submit();
  vk::Recorder tiled_rec(ctx);
  Tensor tiled = models::run_tiled(tiled_rec, z, {tile, 4, f, 1}, vc.out_ch,
                                   [&](vk::Recorder& r, const Tensor& t) { return ck->vae->decode(r, t); });
  tiled_rec.submit();
  REQUIRE(tiled.shape() == full.shape());
  const uint64_t tile_bound = uint64_t(cmax * (tile * f) * (tile * f)) * 4;
  INFO("widest binding: whole " << whole.max_binding_bytes() << " B, tiled " << tiled_rec.max_binding_bytes()
                                << " B, one tile's widest activation " << tile_bound << " B");
  CHECK(whole.max_binding_bytes() >= uint64_t(cmax * (n * f) * (n * f)) * 4);
  CHECK(tiled_rec.max_binding_bytes() <= tile_bound);
  CHECK(tiled_rec.submit_count() >= 16);  // one submit per tile: 4 x 4 tiles (starts 0, 12, 24, 32)
  for (float v : to_host(ctx, tiled)) REQUIRE(std::isfinite(v));
}
