#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops/matmul.h"
#include "engine/vk/recorder.h"
#include "tests/ops/eltwise_util.h"
#include "tests/ops/gemm_tolerance.h"
#include "tests/support/gpu.h"
#include "tests/support/kernel_family.h"

using namespace vkf;

namespace {

struct Case {
  int64_t batch, M, N, K;
  bool trans_b, b_shared, bias;
};

}  // namespace

TEST_CASE("matmul matches the CPU reference on odd and aligned shapes, f32 and f16", "[ops][matmul]") {
  auto& ctx = test::gpu();
  const int family = GENERATE(0, 1, 2);  // own kernels, the other family, CPU kernels with storage-buffer loads
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  const Case cases[] = {
      {1, 67, 33, 129, false, true, true},  {1, 67, 33, 129, true, true, false}, {3, 5, 9, 16, false, false, true},
      {2, 64, 64, 64, true, false, false},  {2, 64, 64, 64, false, true, false}, {1, 1, 1, 1, false, true, true},
      {2, 7, 3, 2, true, false, true},      {2, 7, 3, 6, false, false, false},   {1, 40, 130, 12, true, true, true},
      {4, 17, 8, 77, false, false, true},
  };
  uint32_t seed = 10;
  for (DType dt : {DType::F32, DType::F16}) {
    if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
    for (const Case& c : cases) {
      const int64_t nb = c.b_shared ? 1 : c.batch;
      auto a = test::random_floats(size_t(c.batch * c.M * c.K), ++seed);
      auto b = test::random_floats(size_t(nb * c.K * c.N), ++seed);
      auto bias = c.bias ? test::random_floats(size_t(c.N), ++seed) : std::vector<float>{};
      Tensor ta = from_host(ctx, {c.batch, c.M, c.K}, a, dt);
      Shape bs = c.trans_b ? Shape{c.N, c.K} : Shape{c.K, c.N};
      if (!c.b_shared) bs.insert(bs.begin(), c.batch);
      Tensor tb = from_host(ctx, bs, b, dt);
      Tensor tbias = c.bias ? from_host(ctx, {c.N}, bias, dt) : Tensor{};
      vk::Recorder rec(ctx);
      Tensor out = ops::matmul(rec, ta, tb, c.bias ? &tbias : nullptr, c.trans_b);
      rec.submit();
      REQUIRE(out.shape() == Shape{c.batch, c.M, c.N});
      if (dt == DType::F16) a = test::f16_round(a), b = test::f16_round(b), bias = test::f16_round(bias);
      auto ref = ops::matmul_ref(a, b, bias, c.batch, c.M, c.N, c.K, c.trans_b, c.b_shared);
      float err = test::rel_err(to_host(ctx, out), ref);
      INFO("dtype " << dtype_name(dt) << " batch " << c.batch << " M " << c.M << " N " << c.N << " K " << c.K
                    << " trans_b " << c.trans_b << " shared " << c.b_shared << " bias " << c.bias << " err " << err);
      CHECK(err <= test::gemm_tolerance(dt, c.K));
    }
  }
  CHECK(ctx.validation_message_count() == 0);
}

TEST_CASE("linear over a 3-D input and matmul on unaligned tensor views", "[ops][matmul]") {
  auto& ctx = test::gpu();
  const int family = GENERATE(0, 1, 2);  // own kernels, the other family, CPU kernels with storage-buffer loads
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  // linear: x [2, 5, 24] @ w[10, 24]^T + b
  auto x = test::random_floats(2 * 5 * 24, 1), w = test::random_floats(10 * 24, 2), bias = test::random_floats(10, 3);
  Tensor tx = from_host(ctx, {2, 5, 24}, x), tw = from_host(ctx, {10, 24}, w), tbias = from_host(ctx, {10}, bias);
  // A view that starts 3*13*5 floats into its buffer (not 16-byte aligned): exercises the aligned-down binding.
  auto big = test::random_floats(5 * 13 * 5, 4), bmat = test::random_floats(5 * 6, 5);
  Tensor tbig = from_host(ctx, {5, 13, 5}, big), tbm = from_host(ctx, {5, 6}, bmat);
  vk::Recorder rec(ctx);
  Tensor y = ops::linear(rec, tx, tw, &tbias);
  Tensor z = ops::matmul(rec, tbig.slice0(3, 5), tbm);
  rec.submit();
  REQUIRE(y.shape() == Shape{2, 5, 10});
  auto yref = ops::matmul_ref(x, w, bias, 1, 10, 10, 24, true, true);
  CHECK(test::rel_err(to_host(ctx, y), yref) <= test::gemm_tolerance(DType::F32, 24));
  std::vector<float> sub(big.begin() + 3 * 13 * 5, big.end());
  auto zref = ops::matmul_ref(sub, bmat, {}, 2, 13, 6, 5, false, true);
  CHECK(test::rel_err(to_host(ctx, z), zref) <= test::gemm_tolerance(DType::F32, 5));
  CHECK(ctx.validation_message_count() == 0);
}

TEST_CASE("matmul splits an A larger than maxStorageBufferRange over rows", "[ops][matmul]") {
  auto& ctx = test::gpu();
  const uint64_t range = ctx.info().max_storage_buffer_range;
  // A [M, 8] f32 just over the binding limit (lavapipe: 128 MiB -> M ~ 4.2M rows); N and K small keep it cheap.
  const int64_t K = 8, N = 4, M = int64_t(range / (K * 4)) + 4099;
  if (uint64_t(M) * K * 4 > (uint64_t(1) << 31)) {
    WARN("device storage range is large (" << range << " bytes); skipping the over-range test");
    return;
  }
  std::vector<float> a(size_t(M * K));
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 97) - 48) * (1.0f / 64);  // exact in fp32
  auto b = test::random_floats(size_t(K * N), 7), bias = test::random_floats(size_t(N), 8);
  Tensor ta = from_host(ctx, {M, K}, a), tb = from_host(ctx, {K, N}, b), tbias = from_host(ctx, {N}, bias);
  REQUIRE(ta.bytes() > range);
  vk::Recorder rec(ctx);
  Tensor c = ops::matmul(rec, ta, tb, &tbias);
  rec.submit();
  CHECK(rec.dispatch_count() >= 2);
  auto got = to_host(ctx, c);
  auto ref = ops::matmul_ref(a, b, bias, 1, M, N, K, false, true);
  CHECK(test::max_abs_diff(got, ref) <= 1e-5f);  // |a|<=0.75, K=8: fp32 rounding < 1e-6
  // The rows around each chunk boundary are the interesting ones; max_abs_diff above covers every row.
  CHECK(ctx.validation_message_count() == 0);
}
