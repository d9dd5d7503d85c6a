#include <catch2/catch.hpp>

#include "engine/ops/softmax.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;

TEST_CASE("softmax over the last axis matches the reference and is stable for large logits", "[ops][softmax]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (Shape s : {Shape{2, 4, 77}, Shape{3, 1}, Shape{7, 1000}, Shape{2, 5000}, Shape{1, 2, 3, 65}}) {
      const int64_t d = s.back();
      // Logits in [50, 80]: exp(80) overflows fp32 unless the row max is subtracted first.
      auto x = test::random_floats(size_t(shape_numel(s)), 61, 50, 80);
      if (dt == DType::F16) x = test::f16_round(x);
      Tensor t = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::softmax(rec, t);
      rec.submit();
      auto got = to_host(ctx, o), ref = ops::softmax_ref(x, d);
      float worst = 0;  // relative per element (probabilities span many decades)
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref[i]) / std::max(ref[i], 1e-30f));
      INFO(shape_str(s) << " " << dtype_name(dt) << " worst rel " << worst);
      // f32: exp arguments up to 30 carry their fp32 rounding (30 * 6e-8 ~ 2e-6) into relative error -> 1e-5
      // per element. f16: output rounding 2^-11 relative, absolute below the f16 normal range -> 1e-3 of the
      // largest probability plus 6e-8 (half an f16 subnormal step).
      if (dt == DType::F32) CHECK(worst <= 1e-5f);
      else CHECK(test::max_abs_diff(got, ref) <= 1e-3f * test::max_abs(ref) + 6e-8f);
    }
}

TEST_CASE("softmax rows split across chunked dispatches", "[ops][softmax]") {
  auto& ctx = test::gpu();
  test::BindingCap cap(4096);
  auto x = test::random_floats(37 * 100, 62, -5, 5);
  Tensor t = from_host(ctx, {37, 100}, x);
  vk::Recorder rec(ctx);
  ops::softmax(rec, t, t);  // in place
  rec.submit();
  CHECK(rec.dispatch_count() > 1);
  CHECK(test::rel_err(to_host(ctx, t), ops::softmax_ref(x, 100)) <= 1e-5f);
}
