// torch.randn reproduction: bit equality with every case of torch_randn.safetensors (produced by
// torch 1.13 CPU). No tolerance: ComfyUI's initial noise must be reproducible exactly from a seed.
#include <catch2/catch.hpp>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/sampling/torch_rng.h"

using vkf::sampling::TorchGenerator;
using vkf::sampling::torch_randn;

TEST_CASE("torch_randn is bit-exact with torch.manual_seed + torch.randn", "[cpu][sampling][torch_rng]") {
  auto st = vkf::io::SafeTensors::open(std::string(VKFLOW_SHARED_DIR) + "/golden/torch_randn.safetensors");
  const auto meta = nlohmann::json::parse(st.metadata().at("json").get<std::string>());
  const auto& cases = meta.at("cases");
  REQUIRE(cases.size() >= 9);
  for (const auto& c : cases) {
    const std::string key = c.at("key").get<std::string>();
    const uint64_t seed = c.at("seed").get<uint64_t>();
    const std::vector<int64_t> shape = c.at("shape").get<std::vector<int64_t>>();
    const auto& info = st.at(key);
    REQUIRE(info.shape == shape);
    const std::vector<float> ref = st.to_f32(info);
    const std::vector<float> got = torch_randn(seed, shape);
    REQUIRE(got.size() == ref.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      if (std::memcmp(&ref[i], &got[i], sizeof(float)) != 0) ++mismatches;
    INFO(key << " seed " << seed << " numel " << ref.size());
    CHECK(mismatches == 0);
  }
}

TEST_CASE("TorchGenerator: seed keeps the low 32 bits, raw draws are mt19937", "[cpu][sampling][torch_rng]") {
  // torch_randn.safetensors has seed 4294967301 (= 2^32 + 5); the same stream must come from 5.
  auto st = vkf::io::SafeTensors::open(std::string(VKFLOW_SHARED_DIR) + "/golden/torch_randn.safetensors");
  const std::vector<float> ref = st.to_f32(st.at("case7"));
  TorchGenerator g(5);
  const std::vector<float> got = g.randn(static_cast<int64_t>(ref.size()));
  CHECK(std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)) == 0);
  CHECK_THROWS_AS(torch_randn(1, {2, -1}), std::runtime_error);
}
