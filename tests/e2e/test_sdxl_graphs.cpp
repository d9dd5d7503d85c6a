// graphs/sdxl_txt2img.json, graphs/sdxl_refiner.json (base -> refiner hand-off through KSamplerAdvanced) and
// graphs/sd2_768v.json (v-prediction) end to end through `vkflow run` on the tiny golden checkpoints, at small
// sizes with few steps: the images have the size the latent and the VAE give, and are not constant.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/io/png.h"
#include "tests/models/golden_models.h"

using namespace vkf::e2e;

namespace {

// Runs graphs/<graph> with the --set values; returns the one image it saved.
vkf::io::DecodedImage run_graph(const std::string& graph, const std::vector<std::string>& sets) {
  vkf::test::GoldenModels m;
  TempDir out("sdxl_graphs");
  std::vector<std::string> a = {"run", (kGraphs / graph).string(), "--quiet", "--models-dir", m.path().string(),
                                "--output-dir", out.path().string()};
  for (auto& s : sets) a.insert(a.end(), {"--set", s});
  auto r = vkflow(a);
  INFO(r.out << r.err);
  REQUIRE(!r.crashed());
  REQUIRE(r.code == 0);
  auto files = files_under(out.path());
  REQUIRE(files.size() == 1);
  return vkf::io::load_image(files[0]);
}

// Not a constant image: the RGB values spread by more than a few 8-bit levels.
void check_sane(const vkf::io::DecodedImage& img, int w, int h) {
  CHECK(img.width == w);
  CHECK(img.height == h);
  float lo = 1, hi = 0;
  for (size_t i = 0; i < img.rgba.size(); ++i)
    if (i % 4 != 3) lo = std::min(lo, img.rgba[i]), hi = std::max(hi, img.rgba[i]);
  INFO("pixel range " << lo << " .. " << hi);
  CHECK(hi - lo > 4.0f / 255.0f);
}

// EmptyLatentImage 128x192 -> latent 16x24 (the goldens' latent size) -> tiny VAE (factor 2) -> 32x48.
const std::vector<std::string> kSize = {"5.width=128", "5.height=192"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("e2e: graphs/sdxl_txt2img.json on the tiny SDXL base", "[e2e][sdxl]") {
  check_sane(run_graph("sdxl_txt2img.json", with(kSize, {"4.ckpt_name=sdxl_tiny_a.safetensors", "3.steps=3"})), 32, 48);
}

TEST_CASE("e2e: graphs/sdxl_refiner.json: base 0..3 with leftover noise, refiner 3..4", "[e2e][sdxl]") {
  check_sane(run_graph("sdxl_refiner.json",
                       with(kSize, {"4.ckpt_name=sdxl_tiny_a.safetensors", "16.ckpt_name=sdxl_tiny_refiner.safetensors",
                                    "10.steps=4", "14.steps=4", "10.end_at_step=3", "14.start_at_step=3"})),
             32, 48);
}

TEST_CASE("e2e: graphs/sd2_768v.json on the tiny SD2 v-prediction checkpoint", "[e2e][sd2]") {
  check_sane(run_graph("sd2_768v.json", with(kSize, {"4.ckpt_name=sd2_tiny_a.safetensors", "3.steps=3"})), 32, 48);
}
