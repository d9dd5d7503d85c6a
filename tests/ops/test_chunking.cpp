#include <catch2/catch.hpp>

#include "engine/ops/lincomb.h"
#include "engine/ops/unary.h"
#include "tests/ops/eltwise_util.h"

using namespace vkf;

TEST_CASE("element-wise ops on a 160 MB tensor cross maxStorageBufferRange in chunks", "[ops][chunking]") {
  auto& ctx = test::gpu();
  const int64_t rows = 10000, cols = 4000, n = rows * cols;  // 40M f32 = 160 MB > 128 MiB
  // lavapipe's limit is 128 MiB; devices with larger ranges are capped to it so the test still crosses.
  test::BindingCap cap(uint64_t(128) << 20);
  REQUIRE(uint64_t(n) * 4 > ops::binding_limit(ctx));
  // Values exactly representable, with exactly representable results for every op below.
  std::vector<float> x(static_cast<size_t>(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 4093) - 2046) * 0.25f;
  Tensor tx = from_host(ctx, {rows, cols}, x);
  vk::Recorder rec(ctx);
  Tensor y = ops::scale(rec, tx, 2.0f, 1.0f);                // unary: 2x + 1
  Tensor z = ops::lincomb(rec, {{0.5f, &y}, {-1.0f, &tx}});  // lincomb: 0.5 everywhere
  rec.submit();
  CHECK(rec.dispatch_count() == 4);  // each op: two chunks (33554428 + 6445572 elements)
  auto gy = to_host(ctx, y), gz = to_host(ctx, z);
  // Exact arithmetic, so every element is compared (the chunk boundary included). The chunk logic of
  // binary, geglu, cast and the row/plane ops is covered at small sizes under a binding cap in their tests.
  size_t bad_y = 0, bad_z = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    bad_y += gy[i] != 2.0f * x[i] + 1.0f;
    bad_z += gz[i] != 0.5f;
  }
  CHECK(bad_y == 0);
  CHECK(bad_z == 0);
  const size_t last = x.size() - 1;
  CHECK(gy[last] == 2.0f * x[last] + 1.0f);
}
