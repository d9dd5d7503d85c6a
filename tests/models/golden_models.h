// A models folder for tests over the SD2 / SDXL goldens: checkpoints/<dir>.safetensors -> the golden
// checkpoint of each dir (a symlink, nothing copied into the repo), its config.json as the <dir>.json sidecar,
// and clip_vocab/ with the shared CLIP vocabulary.
#pragma once
#include <filesystem>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace vkf::test {

inline const std::filesystem::path kGoldenDir = std::filesystem::path(VKFLOW_SHARED_DIR) / "golden";

struct GoldenModels : e2e::TempDir {
  GoldenModels() : TempDir("golden_models") {
    namespace fs = std::filesystem;
    fs::create_directories(path() / "checkpoints");
    fs::create_directories(path() / "clip_vocab");
    fs::create_symlink(e2e::kClipVocab, path() / "clip_vocab" / e2e::kClipVocab.filename());
    for (const char* d : {"sd2_tiny_a", "sdxl_tiny_a", "sdxl_tiny_refiner"}) {
      fs::create_symlink(kGoldenDir / d / "ckpt.safetensors", path() / "checkpoints" / (std::string(d) + ".safetensors"));
      fs::copy_file(kGoldenDir / d / "config.json", path() / "checkpoints" / (std::string(d) + ".json"));
    }
  }
};

}  // namespace vkf::test
