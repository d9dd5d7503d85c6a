// ops::tensor_stats (min / max / mean over the finite elements, NaN and Inf counts; the editor's link
// inspection) against the CPU reference: F32 and F16 storage, odd sizes (none a multiple of the 256-thread
// workgroup, some over 256 workgroups so threads stride), NaN/Inf mixed in, chunked bindings, empty and
// all-non-finite tensors. min, max and the counts are exact (no arithmetic). Mean tolerance:
// |err| <= 64 * 2^-24 * sum|x| / finite — fp32 tree summation, depth well under 64 at these sizes (as dot).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "engine/ops/tensor_stats.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;

namespace {
ops::TensorStats gpu_stats(const std::vector<float>& x, DType dt) {
  auto& ctx = test::gpu();
  return ops::tensor_stats(ctx, from_host(ctx, {int64_t(x.size())}, x, dt));
}
void check_same(const ops::TensorStats& got, const std::vector<float>& x) {
  const ops::TensorStats ref = ops::tensor_stats_ref(x);
  CHECK(got.nan == ref.nan);
  CHECK(got.inf == ref.inf);
  CHECK(got.finite == ref.finite);
  if (ref.finite == 0) {
    CHECK(std::isnan(got.min));
    CHECK(std::isnan(got.max));
    CHECK(std::isnan(got.mean));
    return;
  }
  CHECK(got.min == ref.min);
  CHECK(got.max == ref.max);
  double mag = 0;
  for (float v : x)
    if (std::isfinite(v)) mag += std::fabs(v);
  CHECK(std::fabs(got.mean - ref.mean) <= 64 * std::ldexp(1.0, -24) * mag / double(ref.finite));
}
// Every 97th element NaN, every 89th +Inf, every 113th -Inf (where n allows).
std::vector<float> with_nonfinite(std::vector<float> x) {
  for (size_t i = 5; i < x.size(); i += 97) x[i] = std::numeric_limits<float>::quiet_NaN();
  for (size_t i = 3; i < x.size(); i += 89) x[i] = std::numeric_limits<float>::infinity();
  for (size_t i = 7; i < x.size(); i += 113) x[i] = -std::numeric_limits<float>::infinity();
  return x;
}
}  // namespace

TEST_CASE("tensor_stats matches the CPU reference on odd sizes, f32 and f16, with NaN and Inf", "[ops][reduce]") {
  uint32_t seed = 11;
  for (DType dt : test::float_dtypes())
    for (size_t n : {size_t(1), size_t(15), size_t(257), size_t(1938), size_t(70001)}) {
      INFO(dtype_name(dt) << " n " << n);
      auto x = test::random_floats(n, ++seed, -5.0f, 3.0f);
      if (dt == DType::F16) x = test::f16_round(x);
      check_same(gpu_stats(x, dt), x);
      const auto y = with_nonfinite(x);
      check_same(gpu_stats(y, dt), y);
    }
}

TEST_CASE("tensor_stats over chunked bindings combines every chunk once", "[ops][reduce]") {
  const auto x = with_nonfinite(test::random_floats(5000, 3, -2.0f, 7.0f));
  test::BindingCap cap(2048);  // 20000 bytes: 10+ chunks
  check_same(gpu_stats(x, DType::F32), x);
}

TEST_CASE("tensor_stats of an empty or all non-finite tensor has no finite values", "[ops][reduce]") {
  auto& ctx = test::gpu();
  const ops::TensorStats e = ops::tensor_stats(ctx, empty(ctx, {0, 3}, DType::F32));
  CHECK(e.finite == 0);
  CHECK(e.nan == 0);
  CHECK(e.inf == 0);
  CHECK(std::isnan(e.mean));
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> bad{nan, inf, -inf, nan, nan};
  for (DType dt : test::float_dtypes()) {
    INFO(dtype_name(dt));
    const ops::TensorStats s = gpu_stats(bad, dt);
    CHECK(s.nan == 3);
    CHECK(s.inf == 2);
    check_same(s, bad);
  }
}

TEST_CASE("tensor_stats reports the extremes of a constant and a one-sided tensor", "[ops][reduce]") {
  const std::vector<float> c(777, -1.5f);
  const ops::TensorStats s = gpu_stats(c, DType::F32);
  CHECK(s.min == -1.5f);
  CHECK(s.max == -1.5f);
  CHECK(s.mean == Approx(-1.5).margin(1e-6));
  CHECK(s.finite == 777);
}
