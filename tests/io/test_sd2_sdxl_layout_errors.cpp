// A missing or wrong-shape tensor in an SD2.1 / SDXL base / SDXL refiner checkpoint (header-only files built from
// the real manifests) is refused at load with an error naming the file and the tensor key (and both shapes),
// including tensors the family detection reads (a missing last transformer block's norm1 must not silently
// shorten the detected depth, a missing ResBlock conv must not end the level walk early).
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/io/safetensors.h"
#include "engine/models/sd_config.h"
#include "tests/io/st_builder.h"

using namespace vkf;

namespace {

// Detects `manifest` with `drop` left out and `reshape` given `shape`; returns the error (empty: accepted).
std::string load_error(const char* manifest, const std::string& drop, const std::string& reshape = "",
                       std::vector<int64_t> shape = {}) {
  auto ts = test::manifest_tensors(test::golden(manifest));
  const size_t before = ts.size();
  if (!drop.empty()) std::erase_if(ts, [&](const io::SynthTensor& t) { return t.name == drop; });
  REQUIRE(ts.size() == before - (drop.empty() ? 0 : 1));  // the key really is in the manifest
  if (!reshape.empty()) {
    auto it = std::find_if(ts.begin(), ts.end(), [&](const io::SynthTensor& t) { return t.name == reshape; });
    REQUIRE(it != ts.end());
    it->shape = shape;
  }
  test::TempDir dir;
  const auto p = dir / "broken_layout.safetensors";
  io::write_sparse_safetensors(p, ts);
  try {
    (void)models::detect_config(io::SafeTensors::open(p), std::nullopt);
  } catch (const models::ModelConfigError& e) {
    return e.what();
  }
  return "";
}

void expect_names(const std::string& err, std::initializer_list<std::string> needles) {
  INFO("error: " << err);
  REQUIRE_FALSE(err.empty());
  CHECK_THAT(err, Catch::Contains("broken_layout.safetensors"));
  for (const auto& n : needles) CHECK_THAT(err, Catch::Contains(n));
}

const std::string U = "model.diffusion_model.";

}  // namespace

TEST_CASE("sd_config: SD2.1 / SDXL checkpoints with a missing tensor are refused naming file and key",
          "[cpu][io][sd_config][sd2][sdxl]") {
  CHECK(load_error("manifest_sdxl_base.json", "").empty());  // the untouched layout loads
  struct C {
    const char* manifest;
    std::string key;
  };
  for (const C& c : {C{"manifest_sd21.json", U + "output_blocks.5.1.transformer_blocks.0.attn2.to_v.weight"},
                     C{"manifest_sd21.json", U + "input_blocks.4.0.in_layers.2.weight"},
                     C{"manifest_sd21.json", "first_stage_model.decoder.up.1.block.0.conv2.weight"},
                     C{"manifest_sdxl_base.json", U + "middle_block.1.transformer_blocks.9.norm1.weight"},
                     C{"manifest_sdxl_base.json", U + "input_blocks.7.1.transformer_blocks.3.ff.net.2.weight"},
                     C{"manifest_sdxl_base.json", U + "input_blocks.4.0.in_layers.2.weight"},
                     C{"manifest_sdxl_base.json", U + "label_emb.0.2.weight"},
                     C{"manifest_sdxl_refiner.json", U + "label_emb.0.2.bias"},
                     C{"manifest_sdxl_refiner.json", U + "output_blocks.5.1.transformer_blocks.0.attn2.to_v.weight"}}) {
    INFO(c.manifest << " without " << c.key);
    expect_names(load_error(c.manifest, c.key), {c.key});
  }
}

TEST_CASE("sd_config: SD2.1 / SDXL checkpoints with a wrong-shape tensor are refused naming key and shapes",
          "[cpu][io][sd_config][sd2][sdxl]") {
  expect_names(load_error("manifest_sd21.json", "", "first_stage_model.decoder.up.1.block.0.conv2.weight", {256, 256, 1, 1}),
               {"first_stage_model.decoder.up.1.block.0.conv2.weight", "[256, 256, 3, 3]", "[256, 256, 1, 1]"});
  expect_names(load_error("manifest_sdxl_base.json", "", U + "label_emb.0.2.weight", {1280, 1024}),
               {U + "label_emb.0.2.weight", "[1280, 1280]", "[1280, 1024]"});
  expect_names(load_error("manifest_sdxl_base.json", "", U + "middle_block.1.transformer_blocks.9.attn2.to_k.weight", {1280, 768}),
               {U + "middle_block.1.transformer_blocks.9.attn2.to_k.weight", "[1280, 2048]", "[1280, 768]"});
  expect_names(load_error("manifest_sdxl_refiner.json", "", U + "out.0.weight", {320}),
               {U + "out.0.weight", "[384]", "[320]"});
}
