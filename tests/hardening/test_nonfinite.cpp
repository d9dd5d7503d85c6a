// The GPU NaN/Inf counter against its CPU reference: odd sizes, both storage dtypes, several slots of one
// counter buffer in one command buffer, and tensors split across bindings.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "engine/ops/chunk.h"
#include "engine/ops/nonfinite.h"
#include "tests/support/gpu.h"

using namespace vkf;

TEST_CASE("count_nonfinite matches the CPU reference", "[hardening]") {
  auto& ctx = test::gpu();
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (DType dt : {DType::F32, DType::F16}) {
    if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
    for (int64_t n : {1, 7, 255, 257, 100003}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = nd(rng) * 100.0f;
      std::uniform_int_distribution<int64_t> pos(0, n - 1);
      for (int k = 0; k < int(n % 5); ++k) x[size_t(pos(rng))] = std::numeric_limits<float>::quiet_NaN();
      for (int k = 0; k < int(n % 3); ++k) x[size_t(pos(rng))] = (k % 2 ? -1 : 1) * std::numeric_limits<float>::infinity();
      if (dt == DType::F16) x[0] = 70000.0f;  // overflows half: stored as Inf
      auto ref = ops::count_nonfinite_ref(dt == DType::F16 ? [&] {
        auto y = x;
        for (auto& v : y) v = half_bits_to_float(float_to_half_bits(v));
        return y;
      }() : x);
      Tensor t = from_host(ctx, {n}, x, dt);
      auto got = ops::count_nonfinite(ctx, t);
      INFO("n=" << n << " dtype=" << dtype_name(dt));
      CHECK(got.nan == ref.nan);
      CHECK(got.inf == ref.inf);
    }
  }
  // Slots accumulate separately inside one recording; a binding cap splits the tensor into chunks.
  std::vector<float> a(5000, 1.0f), b(5000, 1.0f);
  a[4999] = std::numeric_limits<float>::quiet_NaN();
  b[17] = std::numeric_limits<float>::infinity();
  b[4000] = std::numeric_limits<float>::quiet_NaN();
  Tensor ta = from_host(ctx, {5000}, a), tb = from_host(ctx, {5000}, b);
  Tensor c = ops::nonfinite_counters(ctx, 3);
  ops::set_binding_limit_cap(4096);
  {
    vk::Recorder rec(ctx);
    ops::count_nonfinite(rec, ta, c, 0);
    ops::count_nonfinite(rec, tb, c, 2);
    ops::count_nonfinite(rec, tb, c, 2);
    rec.submit();
  }
  ops::set_binding_limit_cap(0);
  auto s = ops::read_nonfinite(ctx, c);
  CHECK(s[0].nan == 1);
  CHECK(s[0].inf == 0);
  CHECK_FALSE(s[1].any());
  CHECK(s[2].nan == 2);
  CHECK(s[2].inf == 2);
}
