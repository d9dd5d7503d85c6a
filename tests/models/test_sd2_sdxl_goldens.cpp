// The sd2_tiny_a / sdxl_tiny_a / sdxl_tiny_refiner goldens (made by running Stability-AI ldm / sgm and
// open_clip, shared/golden/MODELS.md "SD2.x and SDXL goldens") through `vkflow eval`, in f32 and in f16.
// Thresholds: MODELS.md's fp32 bound, 1e-4 of max|ref| (a second reference implementation agrees to 3.4e-7;
// the largest measured here is the size embedding cos/sin of values up to 1344 in f32, 8.7e-5), and the
// issue's fp16 bound, 1e-2 (the goldens' tolerance.json measures the reference code itself with fp16
// weights and activations at up to 3.4e-3).
#include <catch2/catch.hpp>

#include <iostream>

#include "tests/models/model_cli.h"

namespace mc = vkf::test::models_cli;

namespace {

mc::fs::path dir(const char* name) { return mc::golden_dir().parent_path() / name; }

struct Case {
  const char* what;
  const char* golden;
  std::vector<std::string> outputs;
  std::string extra = "";
};

void run_cases(const char* model, const std::vector<Case>& cases, const std::string& precision = "f32") {
  const double bound = precision == "f32" ? 1e-4 : 1e-2;
  const auto d = dir(model);
  for (const auto& c : cases) {
    const auto ref = d / (std::string(c.golden) + ".safetensors");
    const auto out = mc::temp_dir() / (std::string(model) + "_" + c.golden + ".safetensors");
    auto r = mc::eval(c.what, d / "ckpt.safetensors", d / "config.json", ref, out, "--precision " + precision + " " + c.extra);
    INFO("vkflow eval " << c.what << " on " << model << ": " << r.err);
    REQUIRE(r.code == 0);
    for (const auto& e : mc::compare_files(out, ref, c.outputs)) {
      std::cout << "  [models] " << model << " " << precision << " " << c.what << " " << e.key
                << ": max|d|/max|ref| = " << e.rel << "\n";
      INFO(c.what << " " << e.key << ": max|d|/max|ref| = " << e.rel);
      CHECK(e.rel <= bound);
    }
  }
}

std::vector<std::string> hidden(std::vector<std::string> v, int layers = 3) {
  for (int i = 0; i <= layers; ++i) v.push_back("hidden_states." + std::to_string(i));
  return v;
}

}  // namespace

std::vector<Case> sd2_cases() {
  return {{"text", "text_io", hidden({"cond", "last_hidden_state_ln", "pooled"})},
          {"unet", "unet_io", {"v"}},
          {"vae-decode", "vae_decode_io", {"image"}},
          {"vae-encode", "vae_encode_io", {"mean"}}};
}

std::vector<Case> sdxl_cases() {
  const auto d = dir("sdxl_tiny_a");
  const std::string ids = "--ids-l " + mc::quote(d / "text_l_io.safetensors") + " --ids-g " + mc::quote(d / "text_g_io.safetensors");
  return {{"text-l", "text_l_io", hidden({"penultimate", "last_hidden_state", "pooler_output"})},
          {"text-g", "text_g_io", hidden({"penultimate", "last_hidden_state_ln", "pooled"})},
          {"conditioner", "conditioner_io",
           {"crossattn", "vector", "uc_crossattn", "uc_vector", "emb.original_size_as_tuple",
            "emb.crop_coords_top_left", "emb.target_size_as_tuple"},
           ids},
          {"unet", "unet_io", {"eps"}},
          {"vae-decode", "vae_decode_io", {"image"}},
          {"vae-encode", "vae_encode_io", {"mean"}}};
}

TEST_CASE("models: vkflow eval matches the sd2_tiny_a goldens (OpenCLIP, v-prediction) in f32", "[models][golden][sd2]") {
  run_cases("sd2_tiny_a", sd2_cases());
}

TEST_CASE("models: vkflow eval matches the sdxl_tiny_a goldens (towers, conditioner, UNet with y) in f32", "[models][golden][sdxl]") {
  run_cases("sdxl_tiny_a", sdxl_cases());
}

// The same goldens with every network in f16 (weights and activations; the checkpoint's fp32 weights
// rounded at load), as `--weights f16` runs them on a GPU.
TEST_CASE("models: the sd2_tiny_a and sdxl_tiny_a goldens in f16 are within 1e-2", "[models][golden][sd2][sdxl][f16]") {
  run_cases("sd2_tiny_a", sd2_cases(), "f16");
  run_cases("sdxl_tiny_a", sdxl_cases(), "f16");
}

TEST_CASE("models: vkflow eval matches the sdxl_tiny_refiner goldens in f32", "[models][golden][sdxl]") {
  const auto d = dir("sdxl_tiny_refiner");
  run_cases("sdxl_tiny_refiner",
            {{"text-g", "text_g_io", hidden({"penultimate", "last_hidden_state_ln", "pooled"}, 2)},
             {"conditioner", "conditioner_io",
              {"crossattn", "vector", "uc_crossattn", "uc_vector", "emb.original_size_as_tuple",
               "emb.crop_coords_top_left", "emb.aesthetic_score"},
              "--ids-g " + mc::quote(d / "text_g_io.safetensors")},
             {"unet", "unet_io", {"eps"}},
             {"vae-decode", "vae_decode_io", {"image"}}});
}
