// Two-phase models: a planning recorder sees every pipeline one evaluation dispatches, prepare builds (and on
// lavapipe runs once) all of them, and the real evaluation afterwards builds nothing new and still matches
// the sd1_tiny_a golden (the warm-up dispatches into scratch memory touch no model data).
#include <catch2/catch.hpp>

#include "engine/models/checkpoint.h"
#include "engine/models/prepare.h"
#include "engine/models/unet.h"
#include "engine/vk/recorder.h"
#include "tests/models/model_cli.h"
#include "tests/support/gpu.h"
#include "tests/support/kernel_family.h"

using namespace vkf;
namespace mc = vkf::test::models_cli;

namespace {
struct PrepareOn {  // the test runner turns preparation off (tests/main.cpp); these tests are about it
  PrepareOn() { models::set_prepare_override(true); }
  ~PrepareOn() { models::set_prepare_override(std::nullopt); }
};
}  // namespace

TEST_CASE("models: a prepared UNet evaluation builds no pipeline and matches the golden", "[models][prepare]") {
  auto& ctx = test::gpu();
  PrepareOn on;
  const int family = GENERATE(0, 1);  // both kernel families plan their own pipelines
  test::KernelFamilyScope kernels(family);
  INFO(kernels.name());
  models::LoadOptions lo;
  lo.config = mc::golden_dir() / "config.json";
  lo.dtype = DType::F32;
  lo.text = lo.vae = false;
  auto ck = models::load_checkpoint(ctx, mc::golden_dir() / "ckpt.safetensors", lo);
  REQUIRE(ck->unet);
  auto io = io::SafeTensors::open(mc::golden_dir() / "unet_io.safetensors");
  auto upload = [&](const char* name) {
    const auto& info = io.at(name);
    return from_host(ctx, Shape(info.shape.begin(), info.shape.end()), io.to_f32(info), DType::F32);
  };
  Tensor x = upload("x"), context = upload("context");
  const auto ts = io.to_f32(io.at("timesteps"));
  auto eval = [&](vk::Recorder& rec) { return ck->unet->forward(rec, x, ts, context); };

  vk::Recorder plan(ctx, vk::Recorder::Plan{});
  eval(plan);
  REQUIRE(plan.planning());
  REQUIRE(!plan.planned().empty());
  CHECK(plan.empty());  // nothing recorded
  const auto st = models::prepare(ctx, [&](vk::Recorder& r) { eval(r); });
  if (ctx.info().is_cpu()) CHECK(st.built + st.warmed > 0);
  const auto again = models::prepare(ctx, [&](vk::Recorder& r) { eval(r); });
  CHECK(again.built == 0);
  CHECK(again.warmed == 0);

  const size_t pipelines = ctx.pipelines().size();
  Tensor eps;
  {
    vk::Recorder rec(ctx);
    eps = eval(rec);
    CHECK(rec.dispatch_count() == plan.dispatch_count());
    rec.submit();
  }
  CHECK(ctx.pipelines().size() == pipelines);
  CHECK(mc::rel_err(to_host(ctx, eps), io.to_f32(io.at("eps"))) <= 1e-4);
  CHECK(ctx.take_validation_messages().empty());
}

TEST_CASE("models: prepare_checkpoint plans every network of a checkpoint at the default job", "[models][prepare]") {
  auto& ctx = test::gpu();
  PrepareOn on;
  models::LoadOptions lo;
  lo.config = mc::golden_dir() / "config.json";
  lo.dtype = DType::F32;
  auto ck = models::load_checkpoint(ctx, mc::golden_dir() / "ckpt.safetensors", lo);
  models::prepare_checkpoint(ctx, *ck);
  CHECK(models::prepare_checkpoint(ctx, *ck).built == 0);  // all of it prepared by the first call
  CHECK(ctx.take_validation_messages().empty());
}
