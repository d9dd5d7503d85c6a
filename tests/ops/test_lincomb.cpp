#include <catch2/catch.hpp>

#include "engine/ops/lincomb.h"
#include "engine/vk/recorder.h"
#include "tests/support/gpu.h"

using namespace vkf;

TEST_CASE("lincomb matches the CPU reference on odd sizes, f32 and f16", "[ops][lincomb]") {
  auto& ctx = test::gpu();
  for (DType dt : {DType::F32, DType::F16}) {
    if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
    for (size_t n : {1u, 7u, 255u, 1000u, 70001u}) {
      auto a = test::random_floats(n, 1), b = test::random_floats(n, 2), c = test::random_floats(n, 3);
      vk::Recorder rec(ctx);
      Tensor ta = from_host(ctx, {int64_t(n)}, a, dt), tb = from_host(ctx, {int64_t(n)}, b, dt),
             tc = from_host(ctx, {int64_t(n)}, c, dt);
      Tensor o = ops::lincomb(rec, {{0.5f, &ta}, {-2.0f, &tb}, {1.25f, &tc}}, 0.1f);
      rec.submit();
      auto got = to_host(ctx, o);
      auto ref = ops::lincomb_ref({{0.5f, a}, {-2.0f, b}, {1.25f, c}}, 0.1f, n);
      // f32: same fp32 arithmetic, only FMA contraction differs -> 1e-6; f16: storage rounding of inputs and
      // output (2^-11 relative) on values up to ~3.9 -> 5e-3.
      float tol = dt == DType::F32 ? 1e-6f : 5e-3f;
      if (dt == DType::F16) {
        for (auto* v : {&a, &b, &c})
          for (auto& x : *v) x = half_bits_to_float(float_to_half_bits(x));
        ref = ops::lincomb_ref({{0.5f, a}, {-2.0f, b}, {1.25f, c}}, 0.1f, n);
      }
      INFO("n=" << n << " dtype=" << dtype_name(dt));
      CHECK(test::max_abs_diff(got, ref) <= tol);
    }
  }
}

TEST_CASE("recorder chains dependent dispatches in one submit with barriers", "[ops][recorder]") {
  auto& ctx = test::gpu();
  size_t n = 4097;
  auto a = test::random_floats(n, 4);
  Tensor t = from_host(ctx, {int64_t(n)}, a);
  vk::Recorder rec(ctx);
  Tensor x = ops::lincomb(rec, {{2.0f, &t}});
  for (int i = 0; i < 5; ++i) ops::lincomb(rec, x, {{1.0f, &x}, {1.0f, &t}});  // in place, depends on previous
  rec.submit();
  CHECK(rec.submit_count() == 1);
  CHECK(rec.dispatch_count() == 6);
  CHECK(rec.barrier_count() == 5);
  auto got = to_host(ctx, x);
  for (size_t i = 0; i < n; ++i) REQUIRE(got[i] == Approx(7.0f * a[i]).margin(1e-5));
}
