// Helpers for the end-to-end tests: run the built `vkflow` binary (VKFLOW_BINARY) in a child process with
// captured output, temp folders, and a models folder holding the tiny golden checkpoint under a name.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace vkf::e2e {

namespace fs = std::filesystem;

inline const fs::path kShared = VKFLOW_SHARED_DIR;
inline const fs::path kGraphs = fs::path(VKFLOW_SOURCE_DIR) / "graphs";
inline const fs::path kClipVocab = kShared / "clip" / "bpe_simple_vocab_16e6.txt.gz";
inline const fs::path kTinyDir = kShared / "golden" / "sd1_tiny_a";

using test::TempDir;  // TempDir(tag): a fresh folder, removed with its contents on destruction

inline std::string slurp(const fs::path& p) { return test::read_file(p); }

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Every regular file below `dir` (none when it does not exist).
inline std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  return out;
}

using RunOutput = test::CliResult;

// Runs VKFLOW_BINARY with `args` (no shell: arguments pass verbatim, invalid UTF-8 included), stdin from
// /dev/null, stdout/stderr captured. VKFLOW_CLIP_VOCAB points at the shared CLIP vocabulary.
inline RunOutput vkflow(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {VKFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_captured(argv, {"VKFLOW_CLIP_VOCAB=" + kClipVocab.string()});
}

// <dir>/checkpoints/tiny.safetensors (a symlink to the golden sd1_tiny_a checkpoint) plus its config as the
// sidecar tiny.json, and <dir>/clip_vocab/ with the CLIP vocabulary (for in-process runs without the env).
class ModelsDir : public TempDir {
 public:
  ModelsDir() : TempDir("models") {
    fs::create_directories(path() / "checkpoints");
    fs::create_symlink(kTinyDir / "ckpt.safetensors", path() / "checkpoints" / "tiny.safetensors");
    fs::copy_file(kTinyDir / "config.json", path() / "checkpoints" / "tiny.json");
    fs::create_directories(path() / "clip_vocab");
    fs::create_symlink(kClipVocab, path() / "clip_vocab" / kClipVocab.filename());
  }
};

inline nlohmann::json load_json(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }

// The text of the PNG tEXt chunk `key`, or "" when absent.
inline std::string png_text(const std::string& png, const std::string& key) {
  size_t pos = 8;  // after the signature
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
           (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
  };
  while (pos + 8 <= png.size()) {
    const size_t len = be32(pos);
    const std::string type = png.substr(pos + 4, 4);
    if (pos + 12 + len > png.size()) break;
    if (type == "tEXt") {
      std::string data = png.substr(pos + 8, len);
      size_t nul = data.find('\0');
      if (nul != std::string::npos && data.substr(0, nul) == key) return data.substr(nul + 1);
    }
    if (type == "IEND") break;
    pos += 12 + len;
  }
  return "";
}

inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace vkf::e2e
