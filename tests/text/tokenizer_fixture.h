// Shared helpers of the tokenizer tests: the golden cases and the reference vocabulary in /work/shared.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "engine/text/clip_tokenizer.h"
#include "tests/support/temp_dir.h"

namespace vkf::text::test {

inline std::filesystem::path shared_dir() { return std::filesystem::path(VKFLOW_SHARED_DIR); }
inline std::filesystem::path clip_gz() { return shared_dir() / "clip" / "bpe_simple_vocab_16e6.txt.gz"; }

inline const nlohmann::json& golden_cases() {
  static const nlohmann::json j = [] {
    std::ifstream in(shared_dir() / "golden" / "tokenizer_cases.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

// Loading the 1.3 MB gz file once for all tests.
inline const ClipTokenizer& reference_tokenizer() {
  static const ClipTokenizer tok = ClipTokenizer::from_file(clip_gz());
  return tok;
}

// A fresh directory under the system temp dir, removed at scope exit (TempDir("tok").path()).
using vkf::test::TempDir;

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace vkf::text::test
