// NaN weights in a checkpoint: the sampler's GPU check fails KSampler naming the first step, exit 1, no
// PNG; --allow-nonfinite lets the run finish.
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/io/safetensors.h"
#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

TEST_CASE("run: NaN weights fail KSampler at step 1 unless --allow-nonfinite", "[hardening]") {
  TempDir models("nanmodels"), out("nanout");
  fs::create_directories(models / "checkpoints");
  const fs::path ckpt = models / "checkpoints" / "nan.safetensors";
  fs::copy_file(kTinyDir / "ckpt.safetensors", ckpt);
  fs::copy_file(kTinyDir / "config.json", models / "checkpoints" / "nan.json");
  uint64_t data_at = 0, begin = 0, bytes = 0;
  vkf::io::StDType dt{};
  {
    auto st = vkf::io::SafeTensors::open(ckpt);
    const auto& t = st.at("model.diffusion_model.out.2.bias");
    std::string head = slurp(ckpt).substr(0, 8);
    std::memcpy(&data_at, head.data(), 8);
    data_at += 8, begin = t.begin, bytes = t.nbytes(), dt = t.dtype;
  }
  REQUIRE((dt == vkf::io::StDType::F32 || dt == vkf::io::StDType::F16));
  std::string file = slurp(ckpt);
  for (uint64_t i = 0; i < bytes; i += dt == vkf::io::StDType::F32 ? 4 : 2) {
    if (dt == vkf::io::StDType::F32) std::memcpy(&file[data_at + begin + i], "\x00\x00\xc0\x7f", 4);
    else std::memcpy(&file[data_at + begin + i], "\x00\x7e", 2);
  }
  write_file(ckpt, file);
  std::vector<std::string> a = {"run", (kGraphs / "txt2img.json").string(), "--quiet", "--models-dir",
                                models.path().string(), "--output-dir", out.path().string(),
                                "--set", "4.ckpt_name=nan.safetensors", "--set", "3.steps=2"};
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
