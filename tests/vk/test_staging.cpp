// The staging-buffer path discrete GPUs take for every upload and download (their device memory is not
// mapped), exercised on lavapipe through a second context that never maps memory: raw round trips at odd
// sizes and offsets, an op recorded between uploads, and a whole VAE decode against its golden.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/io/safetensors.h"
#include "engine/models/checkpoint.h"
#include "engine/ops/lincomb.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"
#include "tests/support/gpu.h"

using namespace vkf;

namespace {
vk::Context& unmapped_context() {
  static vk::Context ctx([] {
    vk::ContextOptions o;
    o.persist_pipeline_cache = false;
    o.map_device_memory = false;
    return o;
  }());
  return ctx;
}
}  // namespace

TEST_CASE("uploads and downloads through staging buffers", "[vk][staging]") {
  auto& ctx = unmapped_context();
  REQUIRE_FALSE(ctx.allocator().host_visible());
  for (int64_t n : {1, 7, 1000, 65537}) {
    auto x = test::random_floats(size_t(n), uint32_t(n));
    for (DType dt : {DType::F32, DType::F16}) {
      if (dt == DType::F16 && !ctx.info().fp16_storage) continue;
      Tensor t = from_host(ctx, {n}, x, dt);
      auto back = to_host(ctx, t);
      REQUIRE(back.size() == x.size());
      // f16 storage rounds to 11 significant bits: |d| <= 2^-11 |x| (values in [-1, 1]).
      CHECK(test::max_abs_diff(back, x) <= (dt == DType::F32 ? 0.0f : 1.0f / 2048));
      if (n > 8) {  // a view at an odd element offset
        Tensor v = t.slice0(3, n - 2);
        auto vb = to_host(ctx, v);
        CHECK(vb.front() == back[3]);
        CHECK(vb.back() == back[size_t(n - 3)]);
      }
    }
  }
  // An op between uploads: inputs staged in, the result staged out.
  auto a = test::random_floats(4099, 1), b = test::random_floats(4099, 2);
  Tensor ta = from_host(ctx, {4099}, a), tb = from_host(ctx, {4099}, b);
  vk::Recorder rec(ctx);
  Tensor c = ops::lincomb(rec, {{2.0f, &ta}, {-0.5f, &tb}});
  rec.submit();
  auto gc = to_host(ctx, c);
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(gc[i] - (2.0f * a[i] - 0.5f * b[i])));
  CHECK(worst <= 1e-6f);  // two products and a sum in fp32
  CHECK(ctx.validation_message_count() == 0);
}

TEST_CASE("a VAE decode with weights and tensors staged matches the golden", "[vk][staging][models]") {
  auto& ctx = unmapped_context();
  const std::string dir = std::string(VKFLOW_SHARED_DIR) + "/golden/sd1_tiny_a/";
  models::LoadOptions lo;
  lo.config = dir + "config.json";
  lo.dtype = DType::F32;
  lo.unet = lo.text = false;
  auto ck = models::load_checkpoint(ctx, dir + "ckpt.safetensors", lo);
  auto io = io::SafeTensors::open(dir + "vae_decode_io.safetensors");
  const auto& zi = io.at("z");
  Tensor z = from_host(ctx, Shape(zi.shape.begin(), zi.shape.end()), io.to_f32(zi));
  vk::Recorder rec(ctx);
  Tensor img = ck->vae->decode(rec, z);
  rec.submit();
  const auto ref = io.to_f32(io.at("image"));
  const float err = test::max_abs_diff(to_host(ctx, img), ref) / test::max_abs(ref);
  INFO("max|d|/max|ref| = " << err);
  CHECK(err <= 1e-4f);  // the f32 golden bound (MODELS.md)
  CHECK(ctx.validation_message_count() == 0);
}
