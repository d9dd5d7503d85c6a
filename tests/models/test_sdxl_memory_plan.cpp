// The device-memory plan of ComfyUI's SDXL txt2img graph at 1024x1024 (graphs/sdxl_txt2img.json) on a file the size
// of the real fp16 sd_xl_base_1.0.safetensors (every tensor of manifest_sdxl_base.json as F16, header-only: sparse on
// disk), printed by `vkflow validate`: the full-image VAE decode is the largest working set, and a device it does not
// fit is told to decode with VAEDecodeTiled, which then fits.
#include <catch2/catch.hpp>

#include <iostream>

#include "engine/io/st_synth.h"
#include "tests/e2e/e2e_util.h"
#include "tests/io/st_builder.h"

using namespace vkf::e2e;

TEST_CASE("memory plan: SDXL base fp16 at 1024x1024 is printed by validate, tiled decode suggested where it does not fit",
          "[sdxl][cpu]") {
  TempDir d("sdxl_plan");
  fs::create_directories(d / "checkpoints");
  const auto ck = d / "checkpoints" / "sd_xl_base_1.0.safetensors";
  vkf::io::write_sparse_safetensors(ck, vkf::test::manifest_tensors(vkf::test::golden("manifest_sdxl_base.json")));
  // 3,468,837,868 parameters (UNet 2.57 G, both text towers 0.82 G, VAE 84 M) x 2 bytes + the header.
  CHECK(fs::file_size(ck) > 6'937'000'000ull);
  CHECK(fs::file_size(ck) < 6'940'000'000ull);
  const std::string graph = (kGraphs / "sdxl_txt2img.json").string();
  const std::vector<std::string> base = {"validate", graph, "--models-dir", d.path().string(), "--weights", "f16"};

  auto r = vkflow(base);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::cout << "  [sdxl] " << r.out.substr(r.out.find("planned"));
  // 6.5 GiB of f16 weights + the 1024x1024 decode (1.3 GiB at f16) = 7.7 GiB.
  CHECK(contains(r.out, "planned device memory: 7.7 GiB = 6.5 GiB model weights + 1.3 GiB for node 8 (VAEDecode"));
  CHECK(contains(r.out, "EmptyLatentImage 1024x1024 batch 1"));

  auto small = base;
  small.insert(small.end(), {"--device-memory", "7"});
  r = vkflow(small);
  CHECK(r.code == 2);
  CHECK(contains(r.out, "does not fit a 7 GiB device"));
  CHECK(contains(r.out, "node 8 (VAEDecode)"));
  CHECK(contains(r.out, "VAEDecodeTiled"));

  // With VAEDecodeTiled (512 px tiles) the same graph fits 7 GiB; the UNet (CFG batch 2) becomes the largest.
  auto g = load_json(kGraphs / "sdxl_txt2img.json");
  g["8"] = {{"class_type", "VAEDecodeTiled"},
            {"inputs", {{"samples", {"3", 0}}, {"vae", {"4", 2}}, {"tile_size", 512}, {"overlap", 64}}}};
  write_file(d / "sdxl_tiled.json", g.dump());
  r = vkflow({"validate", (d / "sdxl_tiled.json").string(), "--models-dir", d.path().string(), "--weights", "f16",
              "--device-memory", "7"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "for node 3 (KSampler"));
}
