#include <catch2/catch.hpp>

#include "engine/ops/binary.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;
using ops::BinaryOp;

namespace {
// Random broadcast pair: start from an output shape and set random axes of each operand to 1, sometimes
// dropping leading axes (right-aligned broadcasting).
std::pair<Shape, Shape> broadcast_pair(std::mt19937& rng, int rank) {
  Shape out = test::random_shape(rng, rank, 7);
  Shape a = out, b = out;
  for (int i = 0; i < rank; ++i) {
    if (rng() % 3 == 0) a[size_t(i)] = 1;
    else if (rng() % 3 == 0) b[size_t(i)] = 1;
  }
  if (rng() % 2) b.erase(b.begin(), b.begin() + long(rng() % size_t(rank)));
  return {a, b};
}
}  // namespace

TEST_CASE("binary ops broadcast like NumPy and match the reference, f32 and f16", "[ops][binary]") {
  auto& ctx = test::gpu();
  std::mt19937 rng(11);
  for (DType dt : test::float_dtypes())
    for (int trial = 0; trial < 24; ++trial) {
      auto [sa, sb] = broadcast_pair(rng, 1 + trial % 5);
      auto op = BinaryOp(trial % 4);
      auto a = test::random_floats(size_t(shape_numel(sa)), uint32_t(trial), -2, 2);
      auto b = test::random_floats(size_t(shape_numel(sb)), uint32_t(trial + 100), 0.5f, 2);  // no /0
      if (trial % 8 == 3) b = test::random_floats(b.size(), uint32_t(trial + 7), -2, -0.5f);
      if (dt == DType::F16) a = test::f16_round(a), b = test::f16_round(b);
      vk::Recorder rec(ctx);
      Tensor ta = from_host(ctx, sa, a, dt), tb = from_host(ctx, sb, b, dt);
      Tensor o = ops::binary(rec, op, ta, tb);
      rec.submit();
      auto ref = ops::binary_ref(op, a, sa, b, sb);
      INFO(ops::binary_op_name(op) << " " << shape_str(sa) << " , " << shape_str(sb) << " " << dtype_name(dt));
      REQUIRE(o.shape() == ops::broadcast_shapes(sa, sb));
      // f32: one correctly rounded fp32 operation each side -> identical up to 1 ulp (|v| <= 4): 1e-6 rel;
      // f16: the output is rounded to f16 (2^-11 relative).
      CHECK(test::rel_err(to_host(ctx, o), ref) <= (dt == DType::F32 ? 1e-6f : 1e-3f));
    }
}

TEST_CASE("binary chunked dispatches: broadcast operands bigger than one binding", "[ops][binary]") {
  auto& ctx = test::gpu();
  test::BindingCap cap(4096);  // 1024 f32 per binding: forces chunks and the touched-range logic
  struct Case {
    Shape a, b;
  } cases[] = {{{3, 5, 700}, {3, 5, 700}}, {{3, 5, 700}, {700}}, {{2, 1, 900}, {2, 3, 1}}, {{1, 3, 777}, {4, 3, 1}},
               {{4, 1, 3, 333}, {1, 5, 3, 1}}};
  for (auto& c : cases) {
    auto a = test::random_floats(size_t(shape_numel(c.a)), 1), b = test::random_floats(size_t(shape_numel(c.b)), 2);
    vk::Recorder rec(ctx);
    Tensor ta = from_host(ctx, c.a, a), tb = from_host(ctx, c.b, b);
    Tensor o = ops::binary(rec, BinaryOp::Sub, ta, tb);
    rec.submit();
    INFO(shape_str(c.a) << " - " << shape_str(c.b) << " dispatches " << rec.dispatch_count());
    CHECK(rec.dispatch_count() > 1);
    CHECK(test::max_abs_diff(to_host(ctx, o), ops::binary_ref(BinaryOp::Sub, a, c.a, b, c.b)) == 0.0f);  // exact op
  }
}

TEST_CASE("binary in place, on unaligned views, and errors name the shapes", "[ops][binary]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes()) {
    // rows of 5 f16 = 10 bytes: slice0(1, 3) starts at a byte offset the device cannot bind directly
    auto a = test::f16_round(test::random_floats(15, 3)), b = test::f16_round(test::random_floats(5, 4));
    Tensor ta = from_host(ctx, {3, 5}, a, dt), tb = from_host(ctx, {5}, b, dt);
    Tensor view = ta.slice0(1, 3);
    vk::Recorder rec(ctx);
    ops::binary(rec, BinaryOp::Mul, view, tb, view);
    rec.submit();
    auto got = to_host(ctx, ta);
    for (size_t i = 0; i < 15; ++i) {
      float want = i < 5 ? a[i] : a[i] * b[i % 5];
      if (dt == DType::F16) want = half_bits_to_float(float_to_half_bits(want));
      REQUIRE(got[i] == Approx(want).margin(1e-6));
    }
  }
  vk::Recorder rec(ctx);
  Tensor x = empty(ctx, {2, 3}), y = empty(ctx, {4});
  CHECK_THROWS_WITH(ops::add(rec, x, y), Catch::Contains("[2,3]") && Catch::Contains("[4]"));
}
