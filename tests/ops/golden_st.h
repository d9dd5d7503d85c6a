// Minimal safetensors reader for op tests against /work/shared goldens (the ops build leaves engine/io
// out, so tests of engine/ops carry their own): F32 and I64 tensors, converted to float / int32.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vkf::test {

struct GoldenTensor {
  std::vector<int64_t> shape;
  std::vector<float> f32;    // F32 tensors
  std::vector<int32_t> i32;  // I64 tensors, narrowed
};

inline GoldenTensor read_golden(const std::string& path, const std::string& name) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  std::string hdr(n, '\0');
  f.read(hdr.data(), std::streamsize(n));
  auto j = nlohmann::json::parse(hdr);
  if (!j.contains(name)) throw std::runtime_error(path + ": no tensor '" + name + "'");
  auto& e = j[name];
  GoldenTensor t;
  t.shape = e["shape"].get<std::vector<int64_t>>();
  uint64_t b = e["data_offsets"][0], end = e["data_offsets"][1];
  std::vector<char> raw(end - b);
  f.seekg(std::streamoff(8 + n + b));
  f.read(raw.data(), std::streamsize(raw.size()));
  std::string dt = e["dtype"];
  if (dt == "F32") {
    t.f32.resize(raw.size() / 4);
    std::memcpy(t.f32.data(), raw.data(), raw.size());
  } else if (dt == "I64") {
    for (size_t i = 0; i < raw.size() / 8; ++i) {
      int64_t v;
      std::memcpy(&v, raw.data() + 8 * i, 8);
      t.i32.push_back(int32_t(v));
    }
  } else {
    throw std::runtime_error(path + ": tensor '" + name + "' has unsupported dtype " + dt);
  }
  return t;
}

inline std::string golden_path(const std::string& rel) { return std::string(VKFLOW_SHARED_DIR) + "/golden/" + rel; }

}  // namespace vkf::test
