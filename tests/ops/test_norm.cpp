#include <catch2/catch.hpp>

#include "engine/ops/norm.h"
#include "tests/ops/eltwise_util.h"
#include "tests/ops/golden_st.h"

using namespace vkf;

TEST_CASE("group_norm matches the reference: groups, affine, fused SiLU, f32 and f16", "[ops][group_norm]") {
  auto& ctx = test::gpu();
  struct Case {
    Shape s;
    int groups;
    bool affine, silu;
    float eps;
  } cases[] = {{{2, 64, 5, 7}, 32, true, false, 1e-5f},  {{1, 32, 33, 17}, 32, true, true, 1e-6f},
               {{3, 12, 11}, 4, false, false, 1e-5f},     {{2, 6, 3, 3}, 3, true, true, 1e-5f},
               {{1, 128, 20, 28}, 32, true, true, 1e-6f}, {{2, 4, 1}, 2, false, true, 1e-3f}};
  for (DType dt : test::float_dtypes())
    for (auto& c : cases) {
      const int64_t ch = c.s[1];
      // Offset mean (3.0) exercises the numerics of the variance computation.
      auto x = test::random_floats(size_t(shape_numel(c.s)), 21, 2.0f, 4.0f);
      auto w = c.affine ? test::random_floats(size_t(ch), 22, 0.5f, 1.5f) : std::vector<float>{};
      auto b = c.affine ? test::random_floats(size_t(ch), 23) : std::vector<float>{};
      if (dt == DType::F16) x = test::f16_round(x), w = test::f16_round(w), b = test::f16_round(b);
      Tensor tx = from_host(ctx, c.s, x, dt), tw, tb;
      if (c.affine) tw = from_host(ctx, {ch}, w, dt), tb = from_host(ctx, {ch}, b, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::group_norm(rec, tx, tw, tb, {c.groups, c.eps, c.silu});
      rec.submit();
      auto ref = ops::group_norm_ref(x, c.s, w, b, {c.groups, c.eps, c.silu});
      INFO(shape_str(c.s) << " G=" << c.groups << " affine=" << c.affine << " silu=" << c.silu << " " << dtype_name(dt));
      // f32 statistics over <= 20k elements (Welford, fp32) vs double: 1e-5 relative (ops.md reduction
      // tolerance); f16: output rounding of values up to ~4.
      CHECK(test::rel_err(to_host(ctx, o), ref) <= (dt == DType::F32 ? 1e-5f : 2e-3f));
    }
}

TEST_CASE("group_norm and layer_norm split rows across chunked dispatches", "[ops][group_norm][layer_norm]") {
  auto& ctx = test::gpu();
  test::BindingCap cap(8192);  // 2048 f32 per binding
  Shape s{3, 8, 10, 10};       // rows of 2 channels * 100 = 200 elements (G = 4)
  auto x = test::random_floats(size_t(shape_numel(s)), 31), w = test::random_floats(8, 32), b = test::random_floats(8, 33);
  Tensor tx = from_host(ctx, s, x), tw = from_host(ctx, {8}, w), tb = from_host(ctx, {8}, b);
  vk::Recorder rec(ctx);
  Tensor g = ops::group_norm(rec, tx, tw, tb, {4, 1e-5f, true});
  Tensor l = ops::layer_norm(rec, tx.reshape({-1, 20}), Tensor(), Tensor(), 1e-5f);
  rec.submit();
  CHECK(rec.dispatch_count() > 2);
  CHECK(test::rel_err(to_host(ctx, g), ops::group_norm_ref(x, s, w, b, {4, 1e-5f, true})) <= 1e-5f);
  CHECK(test::rel_err(to_host(ctx, l), ops::layer_norm_ref(x, 20, {}, {}, 1e-5f)) <= 1e-5f);
}

TEST_CASE("layer_norm matches the reference, f32 and f16", "[ops][layer_norm]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (Shape s : {Shape{2, 77, 64}, Shape{5, 1, 33}, Shape{3, 1000}, Shape{2, 4099}, Shape{1, 1}}) {
      const int64_t d = s.back();
      auto x = test::random_floats(size_t(shape_numel(s)), 41, -3, 5);
      auto w = test::random_floats(size_t(d), 42), b = test::random_floats(size_t(d), 43);
      if (dt == DType::F16) x = test::f16_round(x), w = test::f16_round(w), b = test::f16_round(b);
      Tensor tx = from_host(ctx, s, x, dt), tw = from_host(ctx, {d}, w, dt), tb = from_host(ctx, {d}, b, dt);
      vk::Recorder rec(ctx);
      Tensor o = ops::layer_norm(rec, tx, tw, tb, 1e-5f);
      rec.submit();
      INFO(shape_str(s) << " " << dtype_name(dt));
      // f32 1e-5 relative (fp32 statistics); f16 2e-3 (output rounding, |y| up to ~4).
      CHECK(test::rel_err(to_host(ctx, o), ops::layer_norm_ref(x, d, w, b, 1e-5f)) <= (dt == DType::F32 ? 1e-5f : 2e-3f));
    }
}

TEST_CASE("layer_norm reproduces the CLIP final_layer_norm golden", "[ops][layer_norm]") {
  // text_io: last_hidden_state = final_layer_norm(hidden_states.L) (eps 1e-5), L = 2 for config A.
  auto& ctx = test::gpu();
  const std::string ck = test::golden_path("sd1_tiny_a/ckpt.safetensors"), io = test::golden_path("sd1_tiny_a/text_io.safetensors");
  const std::string pre = "cond_stage_model.transformer.text_model.final_layer_norm.";
  auto w = test::read_golden(ck, pre + "weight"), b = test::read_golden(ck, pre + "bias");
  for (auto [in, want] : {std::pair{"hidden_states.2", "last_hidden_state"},
                          std::pair{"penultimate_hidden_state", "penultimate_hidden_state_ln"}}) {
    auto x = test::read_golden(io, in), ref = test::read_golden(io, want);
    Tensor tx = from_host(ctx, x.shape, x.f32), tw = from_host(ctx, w.shape, w.f32), tb = from_host(ctx, b.shape, b.f32);
    vk::Recorder rec(ctx);
    Tensor o = ops::layer_norm(rec, tx, tw, tb, 1e-5f);
    rec.submit();
    INFO(in);
    // MODELS.md: fp32 compute threshold max|d| <= 1e-4 * max|ref|.
    CHECK(test::rel_err(to_host(ctx, o), ref.f32) <= 1e-4f);
  }
}

TEST_CASE("mean and variance over the last axis", "[ops][reduce]") {
  auto& ctx = test::gpu();
  for (DType dt : test::float_dtypes())
    for (Shape s : {Shape{4, 7}, Shape{2, 3, 1000}, Shape{1, 5000}, Shape{6, 2}}) {
      const int64_t d = s.back();
      auto x = test::random_floats(size_t(shape_numel(s)), 51, 1, 3);
      if (dt == DType::F16) x = test::f16_round(x);
      Tensor tx = from_host(ctx, s, x, dt);
      vk::Recorder rec(ctx);
      Tensor m = ops::mean(rec, tx), vb = ops::variance(rec, tx, true), vp = ops::variance(rec, tx, false);
      rec.submit();
      Shape os = s;
      os.back() = 1;
      REQUIRE(m.shape() == os);
      INFO(shape_str(s) << " " << dtype_name(dt));
      const float tol = dt == DType::F32 ? 1e-5f : 1e-3f;  // fp32 Welford vs double; f16 output rounding
      CHECK(test::rel_err(to_host(ctx, m), ops::mean_ref(x, d)) <= tol);
      CHECK(test::rel_err(to_host(ctx, vb), ops::variance_ref(x, d, true)) <= tol);
      CHECK(test::rel_err(to_host(ctx, vp), ops::variance_ref(x, d, false)) <= tol);
    }
}

TEST_CASE("norm ops reject bad arguments with clear messages", "[ops][group_norm][layer_norm]") {
  auto& ctx = test::gpu();
  vk::Recorder rec(ctx);
  Tensor x = empty(ctx, {2, 30, 4, 4}), w = empty(ctx, {30}), b = empty(ctx, {16});
  CHECK_THROWS_WITH(ops::group_norm(rec, x, w, w, {32, 1e-5f, false}), Catch::Contains("30 channels"));
  CHECK_THROWS_WITH(ops::group_norm(rec, x, w, b, {10, 1e-5f, false}), Catch::Contains("[16]"));
  CHECK_THROWS_WITH(ops::layer_norm(rec, x, w, Tensor(), 1e-5f), Catch::Contains("both weight and bias"));
}
