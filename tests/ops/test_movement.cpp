#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "engine/ops/movement.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;

// Data movement is bit-exact: every comparison below is equality.

TEST_CASE("upsample_nearest2x repeats each pixel 2x2", "[ops][upsample]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 1, 1, 1}, Shape{1, 4, 16, 24}, Shape{3, 9, 2}}) {
      auto x = test::f16_round(test::random_floats(size_t(shape_numel(s)), 71));
      Tensor t = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::upsample_nearest2x(rec, t);
      rec.submit();
      INFO(shape_str(s) << " " << dtype_name(dt));
      CHECK(to_host(ctx, o) == ops::upsample_nearest2x_ref(x, s));
    }
  test::BindingCap cap(2048);  // planes of 4*5*7*4 bytes: several chunks
  Shape s{2, 9, 5, 7};
  auto x = test::random_floats(size_t(shape_numel(s)), 72);
  Tensor t = from_host(ctx, s, x);
  vk::Recorder rec(ctx);
  Tensor o = ops::upsample_nearest2x(rec, t);
  rec.submit();
  CHECK(rec.dispatch_count() > 1);
  CHECK(to_host(ctx, o) == ops::upsample_nearest2x_ref(x, s));
}

TEST_CASE("concat along every axis (h first, skip second), narrow inverts it", "[ops][concat]") {
  auto& ctx = test::gpu();
  std::mt19937 rng(73);
  for (DType dt : test::float_dtypes())
    for (int trial = 0; trial < 12; ++trial) {
      int rank = 1 + trial % 4, axis = int(rng() % size_t(rank));
      Shape sa = test::random_shape(rng, rank, 6), sb = sa;
      sb[size_t(axis)] = 1 + int64_t(rng() % 5);
      auto a = test::f16_round(test::random_floats(size_t(shape_numel(sa)), 74 + uint32_t(trial)));
      auto b = test::f16_round(test::random_floats(size_t(shape_numel(sb)), 90 + uint32_t(trial)));
      Tensor ta = from_host(ctx, sa, a, dt), tb = from_host(ctx, sb, b, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::concat(rec, {&ta, &tb}, axis - (trial % 2 ? rank : 0));  // negative axes too
      Tensor back = ops::narrow(rec, o, axis, sa[size_t(axis)], sb[size_t(axis)]);
      rec.submit();
      INFO(shape_str(sa) << " ++ " << shape_str(sb) << " axis " << axis << " " << dtype_name(dt));
      CHECK(to_host(ctx, o) == ops::concat_ref({a, b}, {sa, sb}, axis));
      CHECK(to_host(ctx, back) == b);
    }
}

TEST_CASE("concat copies I32 bit-exactly and chunks strided rows", "[ops][concat]") {
  auto& ctx = test::gpu();
  std::vector<int32_t> a{1, 2, 3, 49407, -5, 7}, b{100, 200, 300};
  Tensor ta = from_host_i32(ctx, {3, 2}, a), tb = from_host_i32(ctx, {3, 1}, b);
  vk::Recorder rec(ctx);
  Tensor o = ops::concat(rec, {&ta, &tb}, 1);
  rec.submit();
  auto bytes = download_bytes(ctx, o);
  std::vector<int32_t> got(9);
  std::memcpy(got.data(), bytes.data(), 36);
  CHECK(got == std::vector<int32_t>{1, 2, 100, 3, 49407, 200, -5, 7, 300});

  test::BindingCap cap(4096);  // output rows of 10*9*5 f32 = 1800 bytes: 2 rows per dispatch
  Shape sa{6, 7, 9, 5}, sb{6, 3, 9, 5};
  auto x = test::random_floats(size_t(shape_numel(sa)), 75), y = test::random_floats(size_t(shape_numel(sb)), 76);
  Tensor tx = from_host(ctx, sa, x), ty = from_host(ctx, sb, y);
  vk::Recorder rec2(ctx);
  Tensor c = ops::concat(rec2, {&tx, &ty}, 1);  // channel concat (UNet skips)
  rec2.submit();
  CHECK(rec2.dispatch_count() > 2);
  CHECK(to_host(ctx, c) == ops::concat_ref({x, y}, {sa, sb}, 1));
}

TEST_CASE("permute: general <= 5-D permutations and the attention head split", "[ops][permute]") {
  auto& ctx = test::gpu();
  std::mt19937 rng(77);
  for (DType dt : test::float_dtypes())
    for (int trial = 0; trial < 15; ++trial) {
      int rank = 1 + trial % 5;
      Shape s = test::random_shape(rng, rank, 7);
      std::vector<int> perm(static_cast<size_t>(rank));
      for (int i = 0; i < rank; ++i) perm[size_t(i)] = i;
      std::shuffle(perm.begin(), perm.end(), rng);
      auto x = test::f16_round(test::random_floats(size_t(shape_numel(s)), 78 + uint32_t(trial)));
      Tensor t = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::permute(rec, t, perm);
      rec.submit();
      INFO(shape_str(s) << " trial " << trial << " " << dtype_name(dt));
      CHECK(to_host(ctx, o) == ops::permute_ref(x, s, perm));
    }
  // b n (h d) -> b h n d: element [b, n, h*D + d] lands at [b, h, n, d].
  const int64_t B = 2, N = 5, H = 3, D = 4;
  auto x = test::random_floats(size_t(B * N * H * D), 79);
  Tensor t = from_host(ctx, {B, N, H * D}, x);
  vk::Recorder rec(ctx);
  Tensor o = ops::permute(rec, t.reshape({B, N, H, D}), {0, 2, 1, 3});
  rec.submit();
  auto got = to_host(ctx, o);
  REQUIRE(o.shape() == Shape{B, H, N, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d)
          REQUIRE(got[size_t(((b * H + h) * N + n) * D + d)] == x[size_t((b * N + n) * H * D + h * D + d)]);
  CHECK_THROWS_WITH(ops::permute(rec, t, {0, 0, 1}), Catch::Contains("not a permutation"));
}

TEST_CASE("pad2d pads asymmetrically (VAE downsample: right and bottom by 1) and crops", "[ops][pad2d]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (ops::Pad2d p : {ops::Pad2d{0, 1, 0, 1, 0.0f}, ops::Pad2d{2, 0, 3, 1, -1.5f}, ops::Pad2d{1, -1, -2, 0, 0.0f}}) {
      Shape s{2, 3, 5, 7};
      auto x = test::f16_round(test::random_floats(size_t(shape_numel(s)), 80));
      Tensor t = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::pad2d(rec, t, p);
      rec.submit();
      INFO(p.left << "," << p.right << "," << p.top << "," << p.bottom << " " << dtype_name(dt));
      CHECK(o.shape() == Shape{2, 3, 5 + p.top + p.bottom, 7 + p.left + p.right});
      CHECK(to_host(ctx, o) == ops::pad2d_ref(x, s, p));
    }
  test::BindingCap cap(1024);
  Shape s{3, 4, 6, 9};
  auto x = test::random_floats(size_t(shape_numel(s)), 81);
  Tensor t = from_host(ctx, s, x);
  vk::Recorder rec(ctx);
  Tensor o = ops::pad2d(rec, t, {0, 1, 0, 1, 0.0f});
  rec.submit();
  CHECK(rec.dispatch_count() > 1);
  CHECK(to_host(ctx, o) == ops::pad2d_ref(x, s, {0, 1, 0, 1, 0.0f}));
}

TEST_CASE("permute splits over the leading axis when a tensor exceeds one binding", "[ops][permute]") {
  auto& ctx = test::gpu();
  const Shape shape{5, 6, 7, 9};  // odd sizes: the per-slice views start at unaligned offsets
  auto x = test::random_floats(size_t(shape_numel(shape)), 21);
  Tensor t = from_host(ctx, shape, x);
  // cap one binding at 2.5 slices' worth, so the permute runs as 2+2+1 slices
  ops::set_binding_limit_cap(uint64_t(6 * 7 * 9 * 4) * 5 / 2);
  vk::Recorder rec(ctx);
  Tensor o = ops::permute(rec, t, {0, 2, 3, 1});
  rec.submit();
  ops::set_binding_limit_cap(0);
  CHECK(rec.dispatch_count() == 3);
  CHECK(to_host(ctx, o) == ops::permute_ref(x, shape, {0, 2, 3, 1}));  // a copy: bit-exact
}
