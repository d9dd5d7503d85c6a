// A missing or wrong-shape tensor in an SD2.1 / SDXL base / SDXL refiner checkpoint (header-only files built from
// the real manifests) is refused at load with an error naming the file and the tensor key (and both shapes),
// including tensors the family detection reads (a missing last transformer block's norm1 must not silently
// shorten the detected depth, a missing ResBlock conv must not end the level walk early).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

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

namespace {

// +a, -a, +a, ... (n = 320 values, level 0's width): mean 0, population std exactly a; the unbiased (n-1) std
// is a * sqrt(320/319) = 1.00157 a.
std::vector<float> alternating(float a, size_t n = 320) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i % 2 ? -a : a;
  return v;
}

// parameterization detected for the SD2.1 layout with `bias` as output_blocks.11.1.transformer_blocks.0.norm1.bias
// (written as real F32 values into the otherwise header-only file) and `in_channels` UNet input channels.
std::string sd2_parameterization(const std::vector<float>& bias, int64_t in_channels = 4) {
  const std::string key = U + "output_blocks.11.1.transformer_blocks.0.norm1.bias";
  auto ts = test::manifest_tensors(test::golden("manifest_sd21.json"));
  for (auto& t : ts) {
    if (t.name == key) t.dtype = io::StDType::F32;  // exact values: the rule's threshold is tested to 1e-4
    if (t.name == U + "input_blocks.0.0.weight") t.shape[1] = in_channels;
  }
  test::TempDir dir;
  const auto p = dir / "sd21_layout.safetensors";
  io::write_sparse_safetensors(p, ts);
  if (!bias.empty()) {
    uint64_t data_at = 0, begin = 0;
    {
      const auto st = io::SafeTensors::open(p);
      const auto& info = st.at(key);
      REQUIRE(info.nbytes() == bias.size() * sizeof(float));
      begin = info.begin;
    }
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.read(reinterpret_cast<char*>(&data_at), 8);  // header length; the data area starts after it
    f.seekp(std::streamoff(8 + data_at + begin));
    f.write(reinterpret_cast<const char*>(bias.data()), std::streamsize(bias.size() * sizeof(float)));
  }
  return models::detect_config(io::SafeTensors::open(p), std::nullopt).schedule.parameterization;
}

}  // namespace

// ComfyUI supported_models.SD20.model_type: for 4 input channels, V_PREDICTION when
// torch.std(output_blocks.11.1.transformer_blocks.0.norm1.bias, unbiased=False) > 0.09, else (tensor absent,
// inpainting's 9 channels) EPS. The tiny SD2 golden has no output_blocks.11 and so needs its sidecar's "v".
TEST_CASE("sd_config: SD2.x v-prediction detection follows ComfyUI's rule", "[cpu][io][sd_config][sd2]") {
  CHECK(sd2_parameterization({}) == "eps");                        // header-only file: zeros, std 0
  CHECK(sd2_parameterization(alternating(0.12f)) == "v");          // 768-v checkpoints: std ~0.1+
  CHECK(sd2_parameterization(alternating(0.05f)) == "eps");        // 512-base
  CHECK(sd2_parameterization(alternating(0.0900f * 1.0001f)) == "v");
  // population std 0.08999 (eps) while the unbiased std is 0.09013: the rule uses the population one.
  CHECK(sd2_parameterization(alternating(0.08999f)) == "eps");
  CHECK(sd2_parameterization(alternating(0.12f), 9) == "eps");     // inpainting models are not v
  // Without output_blocks.11 (other layouts, the tiny goldens) the weights say eps; the sidecar decides.
  const auto tiny = io::SafeTensors::open(test::golden("sd2_tiny_a/ckpt.safetensors"));
  auto cfg = test::read_json(test::golden("sd2_tiny_a/config.json"));
  CHECK(models::detect_config(tiny, cfg).schedule.parameterization == "v");
  cfg.erase("parameterization");
  cfg["schedule"].erase("parameterization");
  CHECK(models::detect_config(tiny, cfg).schedule.parameterization == "eps");
}
