#pragma once
// Test helpers for synthetic checkpoints: temp dirs, (name, shape) lists from the golden manifests
// or from the architecture walk, and writers (sparse zeros or real bytes).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/io/safetensors_writer.h"
#include "engine/io/st_synth.h"
#include "engine/models/sd_layout.h"
#include "tests/support/temp_dir.h"

namespace vkf::test {

inline std::filesystem::path shared_dir() { return VKFLOW_SHARED_DIR; }
inline std::filesystem::path golden(const std::string& rel) { return shared_dir() / "golden" / rel; }

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

// Every tensor of a golden manifest (manifest_sd15.json / manifest_sd21.json); float tensors get
// `float_dtype` (F16 halves the sparse size), integer ones keep theirs.
inline std::vector<io::SynthTensor> manifest_tensors(const std::filesystem::path& manifest,
                                                     io::StDType float_dtype = io::StDType::F16) {
  std::vector<io::SynthTensor> out;
  const auto j = read_json(manifest);  // keep alive: a range-for over read_json(..)["x"] would dangle
  for (const auto& t : j["tensors"]) {
    const auto dt = *io::parse_dtype(t["dtype"].get<std::string>());
    const bool is_float = dt == io::StDType::F32 || dt == io::StDType::F16 || dt == io::StDType::BF16;
    out.push_back({t["name"].get<std::string>(), t["shape"].get<std::vector<int64_t>>(), is_float ? float_dtype : dt});
  }
  return out;
}

// The SD1.x tensors the architecture walk lists for `cfg`, plus position_ids like real files.
inline std::vector<io::SynthTensor> model_tensors(const models::ModelConfig& cfg,
                                                  io::StDType float_dtype = io::StDType::F16) {
  std::vector<io::SynthTensor> out;
  for (auto& s : models::required_tensors(cfg)) out.push_back({s.name, s.shape, float_dtype});
  if (cfg.has_text() && !cfg.text.open_clip)
    out.push_back({cfg.text.prefix + "embeddings.position_ids", {1, cfg.text.max_positions}, io::StDType::I64});
  return out;
}

// Same list written with small random F32 values (for round trips that need real bytes).
inline void write_random_f32(const std::filesystem::path& p, const std::vector<io::SynthTensor>& ts,
                             uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 0.02f);
  io::SafeTensorsWriter w;
  for (const auto& t : ts) {
    uint64_t n = 1;
    for (auto d : t.shape) n *= uint64_t(d);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    w.add_f32(t.name, t.shape, v);
  }
  w.write(p);
}

// A raw safetensors file from a literal header text and a data area of `data_bytes` zeros.
inline void write_raw(const std::filesystem::path& p, const std::string& header, uint64_t data_bytes,
                      int64_t length_override = -1) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  const uint64_t n = length_override >= 0 ? uint64_t(length_override) : header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(header.data(), std::streamsize(header.size()));
  const std::string zeros(data_bytes, '\0');
  f.write(zeros.data(), std::streamsize(zeros.size()));
}

}  // namespace vkf::test
