// A second tiny SD1.x-layout model ("config B": num_head_channels instead of num_heads, transformer
// depth 2, Linear proj_in/out, channel_mult [1,2,3], 96-wide 3-layer 6-head text encoder, VAE factor 8)
// has no shared golden, so the reference is made at test time by tools/ref_sd_forward.py: PyTorch
// modules (tools/fashion/nets.py) that reproduce every sd1_tiny_a golden to <= 2.3e-6 relative
// (`ref_sd_forward.py check-a`), run with random weights in config B's sizes.
#include <catch2/catch.hpp>

#include <iostream>

#include "engine/models/checkpoint.h"
#include "engine/vk/recorder.h"
#include "tests/models/model_cli.h"
#include "tests/support/gpu.h"

using namespace vkf;
namespace mc = vkf::test::models_cli;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// Generates the model + references once per process; empty path (and `why`) when torch is missing.
const mc::fs::path& config_b_dir(std::string& why) {
  static std::string reason;
  static const mc::fs::path dir = [] {
    const mc::fs::path d = mc::temp_dir() / "config_b";
    if (!mc::fs::exists(kPython)) {
      reason = std::string(kPython) + " not found";
      return mc::fs::path();
    }
    const auto script = mc::fs::path(VKFLOW_SOURCE_DIR) / "tools" / "ref_sd_forward.py";
    auto r = mc::run_program(kPython, mc::quote(script) + " make-b " + mc::quote(d) + " --seed 20240607");
    if (r.code == 3) {  // the script's "torch/numpy unavailable" exit
      reason = r.err;
      return mc::fs::path();
    }
    if (r.code != 0) throw std::runtime_error("ref_sd_forward.py make-b failed (" + std::to_string(r.code) + "): " + r.err);
    return d;
  }();
  why = reason;
  return dir;
}

}  // namespace

// 1e-4 relative: as for config A, two correct fp32 implementations differ by ~1e-6 relative (measured
// here: see the printed errors), while the layout/semantics bugs MODELS.md lists move outputs by 1e-2+.
TEST_CASE("models: config B (head channels, depth 2, Linear proj, VAE x8) matches a PyTorch reference",
          "[models][config_b]") {
  std::string why;
  const auto& dir = config_b_dir(why);
  if (dir.empty()) {
    WARN("SKIP: config B reference needs PyTorch (" << why << ")");
    return;
  }
  // The generated file really exercises the variants this test is about.
  {
    auto st = io::SafeTensors::open(dir / "ckpt.safetensors");
    const std::string t = "model.diffusion_model.middle_block.1.";
    REQUIRE(st.at(t + "proj_in.weight").shape.size() == 2);                 // Linear, not conv1x1
    REQUIRE(st.find(t + "transformer_blocks.1.attn1.to_q.weight") != nullptr);  // depth 2
    REQUIRE(st.find("first_stage_model.encoder.down.3.block.0.conv1.weight") != nullptr);  // 4 VAE levels
  }
  struct Case {
    const char* what;
    const char* file;
    std::vector<std::string> outputs;
  };
  const std::vector<Case> cases = {
      {"text", "text_io", {"last_hidden_state", "penultimate_hidden_state", "penultimate_hidden_state_ln"}},
      {"unet", "unet_io", {"eps"}},
      {"vae-decode", "vae_decode_io", {"image"}},
      {"vae-encode", "vae_encode_io", {"mean", "logvar"}},
  };
  double worst = 0;
  for (const auto& c : cases) {
    const auto ref = dir / (std::string(c.file) + ".safetensors");
    const auto out = dir / (std::string(c.file) + "_out.safetensors");
    auto r = mc::eval(c.what, dir / "ckpt.safetensors", dir / "config.json", ref, out, "--precision f32");
    INFO("vkflow eval " << c.what << ": " << r.err);
    REQUIRE(r.code == 0);
    for (const auto& e : mc::compare_files(out, ref, c.outputs)) {
      std::cout << "  [models] config B " << c.what << " " << e.key << ": max|d|/max|ref| = " << e.rel << "\n";
      INFO(c.what << " " << e.key << ": max|d|/max|ref| = " << e.rel);
      CHECK(e.rel <= 1e-4);
      worst = std::max(worst, e.rel);
    }
  }
  std::cout << "  [models] config B worst " << worst << "\n";

  // The UNet intermediates (same names as unet_debug.safetensors) through the library: they say where
  // a mismatch starts. Same process, so the reference is generated once.
  auto& ctx = test::gpu();
  models::LoadOptions lo;
  lo.config = dir / "config.json";
  lo.dtype = DType::F32;
  lo.text = lo.vae = false;
  auto ck = models::load_checkpoint(ctx, dir / "ckpt.safetensors", lo);
  CHECK(ck->config.unet.num_head_channels == 16);
  CHECK(ck->config.unet.use_linear_in_transformer);
  CHECK(ck->config.vae.downsample_factor() == 8);

  auto io = io::SafeTensors::open(dir / "unet_io.safetensors");
  auto ref = io::SafeTensors::open(dir / "unet_debug.safetensors");
  auto upload = [&](const char* name) {
    const auto& info = io.at(name);
    return from_host(ctx, Shape(info.shape.begin(), info.shape.end()), io.to_f32(info), DType::F32);
  };
  Tensor x = upload("x"), context = upload("context");
  std::vector<std::pair<std::string, Tensor>> debug;
  {
    vk::Recorder rec(ctx);
    ck->unet->forward(rec, x, io.to_f32(io.at("timesteps")), context, &debug);
    rec.submit();
  }
  size_t matched = 0;
  for (const auto& [name, t] : debug) {
    const auto* r = ref.find(name);
    if (!r) continue;
    ++matched;
    REQUIRE(t.shape() == r->shape);
    const double e = mc::rel_err(to_host(ctx, t), ref.to_f32(*r));
    INFO(name << ": max|d|/max|ref| = " << e);
    CHECK(e <= 1e-4);
  }
  CHECK(matched == ref.tensors().size());
}
