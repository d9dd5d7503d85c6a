// Attention and matmul on tensors larger than one storage-buffer binding (see test_big_tensors.cpp):
// attention chunks heads / query rows of one batch item, matmul splits a weight over N or K.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "tests/ops/capped_run.h"
#include "tests/ops/gemm_tolerance.h"
#include "tests/support/kernel_family.h"

using namespace vkf;

TEST_CASE("attention chunks query rows and heads of one batch item", "[ops][chunking][attention]") {
  auto& ctx = test::gpu();
  struct Case {
    int64_t batch, heads, lq, lkv, dim;
    bool causal, separate;  // separate: q/k/v [B, H, L, D] (output fused [B, Lq, H*D])
    uint64_t cap;  // for f32; f16 tensors are half the bytes, so f16 runs use half the cap
  } cases[] = {
      {2, 3, 37, 13, 8, false, false, 2000},  // fused: q/out of a batch item 3552 bytes, K/V 1248 fit
      {2, 3, 29, 29, 8, true, false, 3000},   // causal: chunks start at query rows != 0
      {2, 3, 37, 13, 8, false, true, 1000},   // separate: K/V of 2 heads fit, q rows of 1 head
      {1, 2, 45, 45, 12, true, true, 2400},   // separate + causal, head dim 12: one head, 24-row chunks
  };
  for (const Case& c : cases)
    for (DType dt : test::float_dtypes()) {
      auto lay = [&](int64_t len, bool sep) {
        return sep ? Shape{c.batch, c.heads, len, c.dim} : Shape{c.batch, len, c.heads * c.dim};
      };
      Shape qs = lay(c.lq, c.separate), ks = lay(c.lkv, c.separate), os = lay(c.lq, false);
      auto q = test::f16_round(test::random_floats(size_t(shape_numel(qs)), 101, -2.0f, 2.0f));
      auto k = test::f16_round(test::random_floats(size_t(shape_numel(ks)), 102));
      auto v = test::f16_round(test::random_floats(size_t(shape_numel(ks)), 103));
      Tensor tq = from_host(ctx, qs, q, dt), tk = from_host(ctx, ks, k, dt), tv = from_host(ctx, ks, v, dt);
      ops::AttentionParams p{c.heads, 0.0f, c.causal};
      INFO("case lq " << c.lq << " causal " << c.causal << " separate " << c.separate << " " << dtype_name(dt));
      Tensor o = test::run_capped(c.cap * dtype_size(dt) / 4, [&](vk::Recorder& r) { return ops::attention(r, tq, tk, tv, p); });
      ops::AttentionShape sh{c.batch, c.heads, c.lq, c.lkv, c.dim, {}, {}, {}, {}};
      sh.q = ops::attention_view(qs, c.heads, "q").strides;
      sh.k = sh.v = ops::attention_view(ks, c.heads, "k").strides;
      sh.o = ops::attention_view(os, c.heads, "out").strides;
      auto ref = ops::attention_ref(sh, q, k, v, 1.0f / std::sqrt(float(c.dim)), c.causal);
      // As test_attention: fp32 online softmax vs double (2e-5 of the largest output); f16 output rounding.
      CHECK(test::rel_err(to_host(ctx, o), ref) <= (dt == DType::F32 ? 2e-5f : 1e-2f));
    }
  // K/V of one (batch item, head) must fit: 13 keys x 8 dims = 416 bytes against a 300-byte cap.
  Tensor q = from_host(ctx, {1, 2, 13, 8}, test::random_floats(208, 104));
  test::BindingCap cap(300);
  vk::Recorder rec(ctx);
  CHECK_THROWS_WITH(ops::attention(rec, q, q, q, {2, 0.0f, false}), Catch::Contains("keys and values of one"));
}

namespace {
// gemm_tolerance, except that f16 K chunks store their partial sums in f16 between chunks: one more
// output rounding per chunk, so 5e-3 instead of 2e-3.
float mm_tolerance(DType dt, int64_t K, bool k_chunked) {
  return dt == DType::F16 && k_chunked ? 5e-3f : test::gemm_tolerance(dt, K);
}
}  // namespace

TEST_CASE("matmul splits a weight larger than one binding over N (trans_b) or K", "[ops][chunking][matmul]") {
  auto& ctx = test::gpu();
  const int family = GENERATE(0, 1);  // the device's own kernels, then the other family's
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  struct Case {
    int64_t batch, M, N, K;
    bool trans_b, b_shared, bias;
    uint64_t cap;  // for f32; halved for f16
  } cases[] = {
      {2, 9, 37, 40, true, true, true, 2048},     // B 5920 bytes: 12-row chunks of B, C columns at stride 37
      {2, 9, 37, 40, true, false, false, 2048},   // per-batch B
      {1, 70, 29, 33, true, true, true, 1536},    // A rows chunked too (70 x 33 x 4 = 9240 bytes)
      {2, 9, 37, 40, false, true, true, 2048},    // B [K, N]: 13-row K chunks accumulated into C
      {3, 20, 23, 51, false, false, false, 2500},  // per-batch B, odd K chunks
      {2, 20, 10, 12, false, true, true, 1024},   // small B: the CPU repack path, chunked to the cap
  };
  uint32_t seed = 110;
  for (const Case& c : cases)
    for (DType dt : test::float_dtypes()) {
      const int64_t nb = c.b_shared ? 1 : c.batch;
      auto a = test::f16_round(test::random_floats(size_t(c.batch * c.M * c.K), ++seed));
      auto b = test::f16_round(test::random_floats(size_t(nb * c.K * c.N), ++seed));
      auto bias = c.bias ? test::f16_round(test::random_floats(size_t(c.N), ++seed)) : std::vector<float>{};
      Tensor ta = from_host(ctx, {c.batch, c.M, c.K}, a, dt);
      Shape bs = c.trans_b ? Shape{c.N, c.K} : Shape{c.K, c.N};
      if (!c.b_shared) bs.insert(bs.begin(), c.batch);
      Tensor tb = from_host(ctx, bs, b, dt);
      Tensor tbias = c.bias ? from_host(ctx, {c.N}, bias, dt) : Tensor{};
      INFO("batch " << c.batch << " M " << c.M << " N " << c.N << " K " << c.K << " trans_b " << c.trans_b << " shared "
                    << c.b_shared << " " << dtype_name(dt));
      const uint64_t cap = c.cap * dtype_size(dt) / 4;
      Tensor o = test::run_capped(cap, [&](vk::Recorder& r) {
        return ops::matmul(r, ta, tb, c.bias ? &tbias : nullptr, c.trans_b);
      });
      auto ref = ops::matmul_ref(a, b, bias, c.batch, c.M, c.N, c.K, c.trans_b, c.b_shared);
      const bool k_chunked = !c.trans_b && uint64_t(c.K * c.N) * dtype_size(dt) > cap;
      CHECK(test::rel_err(to_host(ctx, o), ref) <= mm_tolerance(dt, c.K, k_chunked));
    }
}

TEST_CASE("linear with a weight over 128 MiB crosses maxStorageBufferRange", "[ops][chunking][matmul]") {
  auto& ctx = test::gpu();
  // w [16400, 2048] f32 = 134,348,800 bytes > 128 MiB (134,217,728): two N chunks, the second 17 rows.
  const int64_t M = 3, N = 16400, K = 2048;
  test::BindingCap cap(uint64_t(128) << 20);  // devices with larger ranges are capped to lavapipe's
  REQUIRE(uint64_t(N * K) * 4 > ops::binding_limit(ctx));
  auto t0 = std::chrono::steady_clock::now();
  // Small integers: every product and sum is exact in fp32, so all 49200 outputs compare exactly.
  std::vector<float> x(static_cast<size_t>(M * K)), w(static_cast<size_t>(N * K)), bias(static_cast<size_t>(N));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 7) - 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int((i * 2654435761u) % 5) - 2);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = float(int(i % 11) - 5);
  Tensor tx = from_host(ctx, {M, K}, x), tw = from_host(ctx, {N, K}, w), tb = from_host(ctx, {N}, bias);
  vk::Recorder rec(ctx);
  Tensor y = ops::linear(rec, tx, tw, &tb);
  rec.submit();
  CHECK(rec.max_binding_bytes() <= ops::binding_limit(ctx));
  CHECK(rec.dispatch_count() >= 2);
  CHECK(to_host(ctx, y) == ops::matmul_ref(x, w, bias, 1, M, N, K, true, true));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("linear over 128 MiB: " << s << " s");
}
