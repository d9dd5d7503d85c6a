// ops::dot (the GPU reduction behind the plugin ABI's dot/norm) against the double CPU reference, F32 and
// F16 storage, odd sizes (1 .. 70001, none a multiple of the 256-thread workgroup, some over 256
// workgroups so each thread strides), and chunked under a small binding cap.
// Tolerance: |err| <= 64 * 2^-24 * sum_i |a_i b_i|. fp32 accumulation: a thread sums at most
// ceil(n / 65536) products, then 8 tree levels, then pass 2 (<= ceil(partials / 256) + 8 levels): depth
// well under 64 at these sizes, each level adding at most 2^-24 of the magnitude summed so far.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops/reduce.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;

namespace {
double gpu_dot(const std::vector<float>& a, const std::vector<float>& b, DType dt) {
  auto& ctx = test::gpu();
  const Tensor ta = from_host(ctx, {int64_t(a.size())}, a, dt), tb = from_host(ctx, {int64_t(b.size())}, b, dt);
  vk::Recorder rec(ctx);
  const Tensor s = ops::dot(rec, ta, tb);
  rec.submit();
  const auto v = to_host(ctx, s);
  REQUIRE(v.size() == 1);
  return v[0];
}
double magnitude(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m += std::fabs(double(a[i]) * b[i]);
  return m;
}
}  // namespace

TEST_CASE("dot reduces on the GPU to the double reference, f32 and f16", "[ops][reduce]") {
  uint32_t seed = 1;
  for (DType dt : test::float_dtypes())
    for (size_t n : {size_t(1), size_t(15), size_t(257), size_t(1938), size_t(70001)}) {
      INFO(dtype_name(dt) << " n " << n);
      auto a = test::random_floats(n, ++seed), b = test::random_floats(n, ++seed, -3.0f, 3.0f);
      if (dt == DType::F16) a = test::f16_round(a), b = test::f16_round(b);
      const double got = gpu_dot(a, b, dt), ref = ops::dot_ref(a, b);
      CHECK(std::fabs(got - ref) <= 64 * std::ldexp(1.0, -24) * magnitude(a, b));
    }
}

TEST_CASE("dot over chunked bindings adds every chunk once", "[ops][reduce]") {
  const auto a = test::random_floats(5000, 7), b = test::random_floats(5000, 8);
  test::BindingCap cap(2048);  // 20000 bytes per operand: 10+ chunks
  const double got = gpu_dot(a, b, DType::F32), ref = ops::dot_ref(a, b);
  CHECK(std::fabs(got - ref) <= 64 * std::ldexp(1.0, -24) * magnitude(a, b));
}

TEST_CASE("dot of an empty tensor is 0", "[ops][reduce]") {
  auto& ctx = test::gpu();
  const Tensor e = empty(ctx, {0, 4}, DType::F32);
  vk::Recorder rec(ctx);
  const Tensor s = ops::dot(rec, e, e);
  rec.submit();
  CHECK(to_host(ctx, s) == std::vector<float>{0.0f});
}
