#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "engine/ops/unary.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;
using ops::UnaryOp;

namespace {
std::vector<float> run_unary(UnaryOp op, const std::vector<float>& x, DType dt, float p0 = 0, float p1 = 0) {
  auto& ctx = test::gpu();
  Tensor t = from_host(ctx, {int64_t(x.size())}, x, dt);
  vk::Recorder rec(ctx);
  Tensor o = ops::unary(rec, op, t, p0, p1);
  rec.submit();
  return to_host(ctx, o);
}
}  // namespace

TEST_CASE("unary activations match double-precision references", "[ops][unary]") {
  // A dense sweep of [-12, 12] plus random odd-sized inputs; references use std::erfc / std::exp in double.
  std::vector<float> x;
  for (int i = -12000; i <= 12000; ++i) x.push_back(float(i) * 1e-3f);
  auto r = test::random_floats(70001, 5, -30, 30);
  x.insert(x.end(), r.begin(), r.end());
  struct Case {
    UnaryOp op;
    float p0, p1;
  } cases[] = {{UnaryOp::SiLU, 0, 0},      {UnaryOp::GELU, 0, 0},    {UnaryOp::QuickGELU, 0, 0},
               {UnaryOp::Sigmoid, 0, 0},   {UnaryOp::Clamp, -0.5f, 2}, {UnaryOp::Scale, 0.18215f, -1.5f}};
  for (DType dt : test::float_dtypes())
    for (auto& c : cases) {
      auto in = dt == DType::F16 ? test::f16_round(x) : x;
      auto got = run_unary(c.op, in, dt, c.p0, c.p1);
      auto ref = ops::unary_ref(c.op, in, c.p0, c.p1);
      float worst_abs = 0, worst_rel = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        float d = std::fabs(got[i] - ref[i]);
        worst_abs = std::max(worst_abs, d);
        worst_rel = std::max(worst_rel, d / std::max(1.0f, std::fabs(ref[i])));
      }
      INFO(ops::unary_op_name(c.op) << " " << dtype_name(dt) << " worst abs " << worst_abs << " rel " << worst_rel);
      // f32: exp/erfc from pmath.glsl are accurate to ~1e-7 relative; values reach |30| -> 1e-6 relative to
      // max(1, |y|) (absolute below 1). f16: output rounding 2^-11 relative -> 1e-3.
      CHECK(worst_rel <= (dt == DType::F32 ? 1e-6f : 1e-3f));
    }
}

TEST_CASE("GELU uses the exact erf, not the tanh approximation", "[ops][unary]") {
  // gelu(x) = x/2 (1 + erf(x / sqrt 2)); the tanh approximation differs by up to ~2e-4 near |x| = 2.
  std::vector<float> x{-3.0f, -2.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f};
  auto got = run_unary(UnaryOp::GELU, x, DType::F32);
  for (size_t i = 0; i < x.size(); ++i) {
    double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
    CHECK(std::fabs(got[i] - want) <= 1e-6);
  }
}

TEST_CASE("geglu: value * gelu(gate) with value = first half", "[ops][geglu]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (Shape s : {Shape{2, 7, 10}, Shape{3, 1, 2, 66}, Shape{1, 2}, Shape{5, 2 * 321}}) {
      auto x = test::random_floats(size_t(shape_numel(s)), 9, -4, 4);
      if (dt == DType::F16) x = test::f16_round(x);
      Tensor t = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::geglu(rec, t);
      rec.submit();
      Shape os = s;
      os.back() /= 2;
      REQUIRE(o.shape() == os);
      INFO(shape_str(s) << " " << dtype_name(dt));
      // Products of |v| <= 4 and gelu: f32 1e-6 relative to max|ref| (erfc ~1e-7 rel), f16 output rounding.
      CHECK(test::rel_err(to_host(ctx, o), ops::geglu_ref(x, s.back() / 2)) <= (dt == DType::F32 ? 1e-6f : 1e-3f));
    }
}

TEST_CASE("geglu splits rows across chunked dispatches", "[ops][geglu]") {
  auto& ctx = test::gpu();
  test::BindingCap cap(2048);  // input rows of 2*100 f32 = 800 bytes: 2 rows per dispatch
  auto x = test::random_floats(7 * 200, 10, -3, 3);
  Tensor t = from_host(ctx, {7, 200}, x);
  vk::Recorder rec(ctx);
  Tensor o = ops::geglu(rec, t);
  rec.submit();
  CHECK(rec.dispatch_count() == 4);
  CHECK(test::rel_err(to_host(ctx, o), ops::geglu_ref(x, 100)) <= 1e-6f);
}

TEST_CASE("cast f32 <-> f16 rounds to nearest even like the host conversion", "[ops][cast]") {
  auto& ctx = test::gpu();
  if (!ctx.info().fp16_storage) return;
  auto x = test::random_floats(10007, 12, -70000, 70000);  // includes values overflowing f16 to inf
  auto y = test::random_floats(1001, 13, -1e-4f, 1e-4f);  // f16 subnormals
  x.insert(x.end(), y.begin(), y.end());
  Tensor t = from_host(ctx, {int64_t(x.size())}, x);
  vk::Recorder rec(ctx);
  Tensor h = ops::cast(rec, t, DType::F16);
  Tensor back = ops::cast(rec, h, DType::F32);
  Tensor same = ops::cast(rec, t, DType::F32);
  rec.submit();
  auto hb = download_bytes(ctx, h);
  auto got = to_host(ctx, back);
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, hb.data() + 2 * i, 2);
    bad += bits != float_to_half_bits(x[i]);
    float want = half_bits_to_float(float_to_half_bits(x[i]));
    bad += !(got[i] == want || (std::isinf(got[i]) && std::isinf(want)));
  }
  CHECK(bad == 0);
  CHECK(to_host(ctx, same) == x);
}
