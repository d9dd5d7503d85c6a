#include <catch2/catch.hpp>

#include "engine/ops/binary.h"
#include "engine/ops/embed.h"
#include "tests/ops/eltwise_util.h"
#include "tests/ops/golden_st.h"

using namespace vkf;

TEST_CASE("embedding gathers table rows, host check rejects out-of-range ids", "[ops][embedding]") {
  auto& ctx = test::gpu();
  const int64_t V = 37, D = 13;
  std::vector<int32_t> ids{0, 36, 5, 5, 17, 1, 2, 30, 11};
  for (DType dt : test::float_dtypes()) {
    auto table = test::f16_round(test::random_floats(size_t(V * D), 91));
    Tensor ti = from_host_i32(ctx, {3, 3}, ids), tt = from_host(ctx, {V, D}, table, dt);
    vk::Recorder rec(ctx);
    Tensor o = ops::embedding(rec, ti, tt);
    rec.submit();
    REQUIRE(o.shape() == Shape{3, 3, D});
    CHECK(to_host(ctx, o) == ops::embedding_ref(ids, table, D));  // a gather is exact
  }
  {  // a table bigger than one binding is bound in row chunks
    test::BindingCap cap(512);
    auto table = test::random_floats(size_t(V * D), 92);
    Tensor ti = from_host_i32(ctx, {9}, ids), tt = from_host(ctx, {V, D}, table);
    vk::Recorder rec(ctx);
    Tensor o = ops::embedding(rec, ti, tt);
    rec.submit();
    CHECK(rec.dispatch_count() > 1);
    CHECK(to_host(ctx, o) == ops::embedding_ref(ids, table, D));
  }
  CHECK_NOTHROW(ops::check_ids(ids, V));
  std::vector<int32_t> bad{3, 37, 1};
  CHECK_THROWS_WITH(ops::check_ids(bad, V, "CLIP tokens"),
                    Catch::Contains("CLIP tokens") && Catch::Contains("37") && Catch::Contains("position 1"));
}

TEST_CASE("token + position embedding reproduces the CLIP golden hidden_states.0", "[ops][embedding]") {
  auto& ctx = test::gpu();
  const std::string ck = test::golden_path("sd1_tiny_a/ckpt.safetensors"), io = test::golden_path("sd1_tiny_a/text_io.safetensors");
  const std::string pre = "cond_stage_model.transformer.text_model.embeddings.";
  auto tok = test::read_golden(ck, pre + "token_embedding.weight"), pos = test::read_golden(ck, pre + "position_embedding.weight");
  auto ids = test::read_golden(io, "input_ids"), want = test::read_golden(io, "hidden_states.0");
  ops::check_ids(ids.i32, tok.shape[0], "input_ids");
  Tensor ti = from_host_i32(ctx, ids.shape, ids.i32), tt = from_host(ctx, tok.shape, tok.f32),
         tp = from_host(ctx, pos.shape, pos.f32);
  vk::Recorder rec(ctx);
  Tensor e = ops::embedding(rec, ti, tt);
  Tensor h = ops::add(rec, e, tp);  // [2,77,W] + [77,W] broadcast
  rec.submit();
  // One fp32 addition per element, as the reference: well inside MODELS.md's 1e-4 * max|ref|.
  CHECK(test::rel_err(to_host(ctx, h), want.f32) <= 1e-6f);
}

TEST_CASE("timestep_embedding matches the fp32 reference (cos first, odd dim zero-padded)", "[ops][timestep_embedding]") {
  auto& ctx = test::gpu();
  std::vector<float> t{999.0f, 17.0f, 0.0f, 500.5f, 1.0f, 981.3f};
  for (DType dt : test::float_dtypes())
    for (int dim : {32, 320, 7, 1, 2}) {
      Tensor tt = from_host(ctx, {int64_t(t.size())}, t);
      vk::Recorder rec(ctx);
      Tensor o = ops::timestep_embedding(rec, tt, dim, dt);
      rec.submit();
      auto got = to_host(ctx, o), ref = ops::timestep_embedding_ref(t, dim);
      INFO("dim " << dim << " " << dtype_name(dt) << " max diff " << test::max_abs_diff(got, ref));
      // f32: arguments up to 999 rad; the fp32 freqs (exp, ~1 ulp) times t give up to ~1e-4 rad of
      // argument difference against the double-exp reference -> 2e-4 abs. f16: output rounding 2^-11.
      CHECK(test::max_abs_diff(got, ref) <= (dt == DType::F32 ? 2e-4f : 1e-3f));
      if (dim % 2) CHECK(got[size_t(dim - 1)] == 0.0f);
    }
}

TEST_CASE("timestep_embedding reproduces the UNet golden t_emb", "[ops][timestep_embedding]") {
  auto& ctx = test::gpu();
  auto ts = test::read_golden(test::golden_path("sd1_tiny_a/unet_io.safetensors"), "timesteps");
  auto want = test::read_golden(test::golden_path("sd1_tiny_a/unet_debug.safetensors"), "t_emb");
  std::vector<float> t(ts.i32.begin(), ts.i32.end());
  Tensor tt = from_host(ctx, {int64_t(t.size())}, t);
  vk::Recorder rec(ctx);
  Tensor o = ops::timestep_embedding(rec, tt, int(want.shape[1]));
  rec.submit();
  auto got = to_host(ctx, o);
  INFO("max diff " << test::max_abs_diff(got, want.f32));
  // MODELS.md fp32 threshold: max|d| <= 1e-4 * max|ref| (max|ref| = 1).
  CHECK(test::rel_err(got, want.f32) <= 1e-4f);
  CHECK(test::rel_err(ops::timestep_embedding_ref(t, int(want.shape[1])), want.f32) <= 1e-4f);
}
