// Non-finite weights in a checkpoint: NaN in the UNet fails KSampler naming the first step; NaN or Inf in
// the VAE decoder fails VAEDecode (checked before the [0,1] clamp, which would turn Inf into white and NaN
// into black); exit 1, no PNG. --allow-nonfinite lets the run finish.
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/io/safetensors.h"
#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

namespace {

// models/checkpoints/bad.safetensors: the tiny checkpoint with every value of `tensor` set to `f32_bits`.
void poisoned_checkpoint(const fs::path& models, const std::string& tensor, uint32_t f32_bits) {
  fs::create_directories(models / "checkpoints");
  const fs::path ckpt = models / "checkpoints" / "bad.safetensors";
  fs::copy_file(kTinyDir / "ckpt.safetensors", ckpt, fs::copy_options::overwrite_existing);
  fs::copy_file(kTinyDir / "config.json", models / "checkpoints" / "bad.json", fs::copy_options::overwrite_existing);
  uint64_t data_at = 0, begin = 0, bytes = 0;
  vkf::io::StDType dt{};
  {
    auto st = vkf::io::SafeTensors::open(ckpt);
    const auto& t = st.at(tensor);
    std::string head = slurp(ckpt).substr(0, 8);
    std::memcpy(&data_at, head.data(), 8);
    data_at += 8, begin = t.begin, bytes = t.nbytes(), dt = t.dtype;
  }
  REQUIRE(dt == vkf::io::StDType::F32);
  std::string file = slurp(ckpt);
  for (uint64_t i = 0; i < bytes; i += 4) std::memcpy(&file[data_at + begin + i], &f32_bits, 4);
  write_file(ckpt, file);
}

std::vector<std::string> run_args(const TempDir& models, const TempDir& out) {
  return {"run", (kGraphs / "txt2img.json").string(), "--quiet", "--models-dir", models.path().string(),
          "--output-dir", out.path().string(), "--set", "4.ckpt_name=bad.safetensors", "--set", "3.steps=2"};
}

}  // namespace

TEST_CASE("run: NaN weights fail KSampler at step 1 unless --allow-nonfinite", "[hardening]") {
  TempDir models("nanmodels"), out("nanout");
  poisoned_checkpoint(models.path(), "model.diffusion_model.out.2.bias", 0x7fc00000u);
  auto a = run_args(models, out);
  auto r = vkflow(a);
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(contains(r.err, "KSampler"));
  CHECK(contains(r.err, "non-finite values in the denoised prediction of step 1 of 2"));
  CHECK(files_under(out.path()).empty());
  a.push_back("--allow-nonfinite");
  r = vkflow(a);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(files_under(out.path()).size() == 1);
}

TEST_CASE("run: NaN or Inf in the VAE decoder fails VAEDecode, not a black or white PNG", "[hardening]") {
  for (uint32_t bits : {0x7fc00000u, 0x7f800000u}) {  // NaN, +Inf
    INFO("bits " << std::hex << bits);
    TempDir models("vaemodels"), out("vaeout");
    poisoned_checkpoint(models.path(), "first_stage_model.decoder.conv_out.bias", bits);
    auto r = vkflow(run_args(models, out));
    INFO(r.err);
    CHECK_FALSE(r.crashed());
    CHECK(r.code == 1);
    CHECK(contains(r.err, "node 8 (VAEDecode)"));
    CHECK(contains(r.err, "non-finite values in the decoded image"));
    CHECK(files_under(out.path()).empty());
  }
}
