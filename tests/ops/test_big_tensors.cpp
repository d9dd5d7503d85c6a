// Ops on tensors larger than one storage-buffer binding: each op runs under a binding cap a few times
// smaller than its tensors (chunk boundaries at odd places) and must match its CPU reference while no
// dispatch binds more than the cap (see capped_run.h). Attention and matmul: test_big_matmul.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/ops/embed.h"
#include "engine/ops/image_layout.h"
#include "engine/ops/image_scale.h"
#include "engine/ops/latent_interpolate.h"
#include "engine/ops/movement.h"
#include "engine/ops/norm.h"
#include "tests/ops/capped_run.h"

using namespace vkf;

TEST_CASE("embedding and timestep_embedding chunk tokens, table rows and batch rows", "[ops][chunking]") {
  auto& ctx = test::gpu();
  const int64_t V = 37, D = 13;
  std::vector<int32_t> ids(3 * 29);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7 + 3) % size_t(V));
  for (DType dt : test::float_dtypes()) {
    auto table = test::f16_round(test::random_floats(size_t(V * D), 31));
    Tensor tt = from_host(ctx, {V, D}, table, dt);
    Tensor ti = from_host_i32(ctx, {3, 29}, ids);
    // table 1924 / output 4524 bytes (f32) against 1000: ~19 rows or tokens per binding
    Tensor o = test::run_capped(1000, [&](vk::Recorder& r) { return ops::embedding(r, ti, tt); });
    INFO(dtype_name(dt));
    CHECK(to_host(ctx, o) == ops::embedding_ref(ids, table, D));  // a gather is exact

    auto t = test::random_floats(23, 32, 0.0f, 999.0f);
    Tensor tts = from_host(ctx, {23}, t);
    Tensor e = test::run_capped(1000, [&](vk::Recorder& r) { return ops::timestep_embedding(r, tts, 45, dt); });
    // As test_embed: fp32 freqs times t up to 999 leave ~1e-4 rad; f16 adds output rounding.
    CHECK(test::max_abs_diff(to_host(ctx, e), ops::timestep_embedding_ref(t, 45)) <= (dt == DType::F32 ? 2e-4f : 1e-3f));
  }
}

TEST_CASE("image_scale chunks over images and over output row bands of one image", "[ops][chunking]") {
  auto& ctx = test::gpu();
  struct Case {
    int64_t B, H, W, C, OH, OW;
    bool center;
    uint64_t cap;
  } cases[] = {
      {5, 9, 7, 3, 11, 6, false, 2000},   // images of 756 / 792 bytes: two per dispatch
      {2, 57, 11, 3, 41, 17, false, 4000},  // one image 7524 bytes: bands of output rows
      {1, 57, 11, 3, 90, 13, true, 4000},   // upscale with a centre crop
      {1, 40, 9, 4, 13, 30, true, 3000},    // downscale
  };
  for (auto& c : cases)
    for (auto mode : {ops::ScaleMode::NearestExact, ops::ScaleMode::Bilinear, ops::ScaleMode::Bicubic, ops::ScaleMode::Area}) {
      auto src = test::random_floats(size_t(c.B * c.H * c.W * c.C), 41, 0.0f, 1.0f);
      Tensor t = from_host(ctx, {c.B, c.H, c.W, c.C}, src);
      INFO("mode " << int(mode) << " " << c.B << "x" << c.H << "x" << c.W << " -> " << c.OH << "x" << c.OW);
      Tensor o = test::run_capped(c.cap, [&](vk::Recorder& r) { return ops::image_scale(r, t, c.OH, c.OW, mode, c.center); });
      auto crop = c.center ? ops::center_crop(c.H, c.W, c.OH, c.OW) : ops::CropWindow{0, 0, c.W, c.H};
      // As test_image_scale: same fp32 formulas, only FMA contraction / summation order differ.
      CHECK(test::max_abs_diff(to_host(ctx, o), ops::image_scale_ref(src, c.B, c.H, c.W, c.C, c.OH, c.OW, mode, crop)) <=
            1e-5f);
    }
}

TEST_CASE("vae_to_image and image_to_vae chunk over images and channel row bands", "[ops][chunking]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes()) {
    INFO(dtype_name(dt));
    // vae_to_image: images of 3x19x23 f32 = 5244 bytes; cap 12000 -> 2+2+1 images, cap 2000 -> row bands.
    const int64_t B = 5, C = 3, H = 19, W = 23;
    auto x = test::f16_round(test::random_floats(size_t(B * C * H * W), 51, -1.3f, 1.3f));
    Tensor tx = from_host(ctx, {B, C, H, W}, x, dt);
    std::vector<float> want(x.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t i = 0; i < W; ++i)
            want[size_t(((b * H + y) * W + i) * C + c)] =
                std::clamp((x[size_t(((b * C + c) * H + y) * W + i)] + 1.0f) * 0.5f, 0.0f, 1.0f);
    for (uint64_t cap : {12000, 2000}) {
      Tensor o = test::run_capped(cap, [&](vk::Recorder& r) { return ops::vae_to_image(r, tx); });
      CHECK(test::max_abs_diff(to_host(ctx, o), want) <= 1e-7f);  // one add and one exact halving
    }
    // image_to_vae: window rows 2..16, cols 3..13, first 3 of 4 channels of [2,21,17,4] (5712 bytes/image).
    const int64_t sH = 21, sW = 17, sC = 4, y0 = 2, x0 = 3, h = 15, w = 11, c3 = 3;
    auto img = test::random_floats(size_t(2 * sH * sW * sC), 52, 0.0f, 1.0f);
    Tensor ti = from_host(ctx, {2, sH, sW, sC}, img);
    std::vector<float> want2(size_t(2 * c3 * h * w));
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < c3; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t i = 0; i < w; ++i) {
            float v = img[size_t(((b * sH + y + y0) * sW + i + x0) * sC + c)] * 2.0f - 1.0f;
            want2[size_t(((b * c3 + c) * h + y) * w + i)] = dt == DType::F16 ? half_bits_to_float(float_to_half_bits(v)) : v;
          }
    for (uint64_t cap : {7000, 2000}) {
      Tensor o = test::run_capped(cap, [&](vk::Recorder& r) { return ops::image_to_vae(r, ti, y0, x0, h, w, c3, dt); });
      CHECK(test::max_abs_diff(to_host(ctx, o), want2) <= 1e-6f);  // 2x-1 in fp32, then the same f16 rounding
    }
  }
}

TEST_CASE("tiled accumulation, tile blend and crop2d chunk over planes and row bands", "[ops][chunking]") {
  auto& ctx = test::gpu();
  const int64_t B = 2, C = 3, H = 17, W = 19, th = 11, tw = 12, feather = 3;
  struct Tile {
    int64_t oy, ox;
    uint32_t edges;
  } tiles[] = {{0, 0, 2 | 8}, {6, 7, 1 | 4}};
  for (DType dt : test::float_dtypes()) {
    INFO(dtype_name(dt));
    std::vector<std::vector<float>> data;
    std::vector<Tensor> tt;
    for (size_t i = 0; i < 2; ++i) {
      data.push_back(test::f16_round(test::random_floats(size_t(B * C * th * tw), 61 + uint32_t(i))));
      tt.push_back(from_host(ctx, {B, C, th, tw}, data.back(), dt));
    }
    // Reference: the documented feathered blend (linear ramps over `feather` pixels on shared sides).
    std::vector<double> acc(size_t(B * C * H * W), 0.0), wsum(size_t(H * W), 0.0);
    auto ramp = [&](int64_t d) { return std::min(1.0, (double(d) + 0.5) / double(feather)); };
    for (size_t i = 0; i < 2; ++i)
      for (int64_t bc = 0; bc < B * C; ++bc)
        for (int64_t y = 0; y < th; ++y)
          for (int64_t x = 0; x < tw; ++x) {
            const auto& t = tiles[i];
            double wt = 1.0;
            if (t.edges & 1) wt *= ramp(y);
            if (t.edges & 2) wt *= ramp(th - 1 - y);
            if (t.edges & 4) wt *= ramp(x);
            if (t.edges & 8) wt *= ramp(tw - 1 - x);
            acc[size_t((bc * H + t.oy + y) * W + t.ox + x)] += wt * data[i][size_t((bc * th + y) * tw + x)];
            if (bc == 0) wsum[size_t((t.oy + y) * W + t.ox + x)] += wt;
          }
    std::vector<float> want(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) want[i] = float(acc[i] / std::max(wsum[i % size_t(H * W)], 1e-8));
    // planes of 1292 bytes: 3000 -> two planes per dispatch, 1000 -> bands of rows
    for (uint64_t cap : {3000, 1000}) {
      Tensor o = test::run_capped(cap, [&](vk::Recorder& r) {
        ops::TileAccumulator a = ops::tile_accumulator(r, B, C, H, W);
        for (size_t i = 0; i < 2; ++i) ops::tile_add(r, a, tt[i], tiles[i].oy, tiles[i].ox, feather, tiles[i].edges);
        return ops::tile_finish(r, a);
      });
      // fp32 weights and at most two products summed, then one division: a few ulp of values <= 1.
      CHECK(test::max_abs_diff(to_host(ctx, o), want) <= 1e-6f);
    }
    // crop2d of the same size class: exact copies.
    auto x = test::f16_round(test::random_floats(size_t(B * C * H * W), 63));
    Tensor tx = from_host(ctx, {B, C, H, W}, x, dt);
    const int64_t cy = 3, cx = 4, ch = 11, cw = 9;
    std::vector<float> crop;
    for (int64_t bc = 0; bc < B * C; ++bc)
      for (int64_t y = 0; y < ch; ++y)
        for (int64_t i = 0; i < cw; ++i) crop.push_back(x[size_t((bc * H + y + cy) * W + i + cx)]);
    for (uint64_t cap : {3000, 1000}) {
      Tensor o = test::run_capped(cap, [&](vk::Recorder& r) { return ops::crop2d(r, tx, cy, cx, ch, cw); });
      CHECK(to_host(ctx, o) == crop);
    }
  }
}

TEST_CASE("latent_interpolate chunks over images, and over pixels through NHWC when an image is too big",
          "[ops][chunking]") {
  auto& ctx = test::gpu();
  const int64_t N = 3, C = 4, H = 9, W = 11;  // images of 1584 bytes
  auto a = test::random_floats(size_t(N * C * H * W), 71), b = test::random_floats(size_t(N * C * H * W), 72);
  Tensor ta = from_host(ctx, {N, C, H, W}, a), tb = from_host(ctx, {N, C, H, W}, b);
  auto ref = ops::latent_interpolate_ref(a, b, N, C, H * W, 0.3f);
  for (uint64_t cap : {4000, 1000}) {
    Tensor o = test::run_capped(cap, [&](vk::Recorder& r) { return ops::latent_interpolate(r, ta, tb, 0.3f); });
    // fp32 norms over 4 channels and a few divisions vs double: a few ulp of values ~1.
    CHECK(test::rel_err(to_host(ctx, o), ref) <= 1e-5f);
  }
}

TEST_CASE("permute splits any permutation into boxes that fit one binding, upsample chunks rows",
          "[ops][chunking][permute]") {
  auto& ctx = test::gpu();
  struct Case {
    Shape s;
    std::vector<int> perm;
    uint64_t cap;
  } cases[] = {{{3, 5, 7, 6}, {2, 0, 3, 1}, 500},       {{3, 5, 7, 6}, {1, 0, 2, 3}, 300},
               {{1, 37, 41}, {0, 2, 1}, 700},            {{2, 3, 5, 4, 7}, {4, 2, 0, 3, 1}, 400},
               {{1, 1, 333}, {2, 1, 0}, 200}};
  for (const Case& c : cases)
    for (DType dt : {DType::F32, DType::F16, DType::I32}) {
      if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
      auto x = test::f16_round(test::random_floats(size_t(shape_numel(c.s)), 81, -100.0f, 100.0f));
      if (dt == DType::I32)
        for (auto& v : x) v = std::round(v);
      Tensor t = dt == DType::I32 ? from_host_i32(ctx, c.s, std::vector<int32_t>(x.begin(), x.end()))
                                  : from_host(ctx, c.s, x, dt);
      INFO(shape_str(c.s) << " " << dtype_name(dt));
      Tensor o = test::run_capped(c.cap, [&](vk::Recorder& r) { return ops::permute(r, t, c.perm); });
      CHECK(to_host(ctx, o) == ops::permute_ref(x, c.s, c.perm));  // a copy: bit-exact
    }
  // upsample: one plane's output (4*13*17*4 = 3536 bytes) exceeds a 300-byte cap: runs of input rows.
  const Shape s{2, 1, 13, 17};
  auto x = test::random_floats(size_t(shape_numel(s)), 82);
  Tensor t = from_host(ctx, s, x);
  Tensor o = test::run_capped(300, [&](vk::Recorder& r) { return ops::upsample_nearest2x(r, t); });
  CHECK(to_host(ctx, o) == ops::upsample_nearest2x_ref(x, s));
}

TEST_CASE("group_norm / layer_norm name their limit: one group or row must fit one binding", "[ops][chunking]") {
  auto& ctx = test::gpu();
  Tensor x = from_host(ctx, {1, 64, 8, 8}, test::random_floats(64 * 64, 91));
  test::BindingCap cap(400);  // a group: 2 channels x 64 = 512 bytes
  vk::Recorder rec(ctx);
  CHECK_THROWS_WITH(ops::group_norm(rec, x, Tensor(), Tensor(), {32, 1e-5f, false}),
                    Catch::Contains("one group (2 channels x 64 elements)") && Catch::Contains("must fit one binding"));
  CHECK_THROWS_WITH(ops::layer_norm(rec, x.reshape({4, 1024}), Tensor(), Tensor(), 1e-5f),
                    Catch::Contains("one row (1024 elements)"));
  // Rows that fit are chunked (test_norm covers correctness under a cap): 64 rows of 256 bytes.
  Tensor y = ops::layer_norm(rec, x.reshape({64, 64}), Tensor(), Tensor(), 1e-5f);
  rec.submit();
  CHECK(rec.max_binding_bytes() <= 400);
  CHECK(rec.dispatch_count() > 1);
}
