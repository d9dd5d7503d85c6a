// Two `vkflow serve` processes sharing one output folder (one per GPU, as the README's scale-out suggests),
// both saving with the same filename_prefix at once: every image gets a name of its own (SaveImage's
// counter is claimed with link(), which fails on an existing name, across processes) and every file is
// complete. LoadImage -> 4 x SaveImage of an 8x8 image on the Vulkan device (lavapipe in CI), --no-cache
// so every prompt saves again.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <set>

#include "engine/io/png.h"
#include "tests/server/serve_proc.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;

TEST_CASE("serve: two servers saving with one prefix into one output folder overwrite nothing", "[server]") {
  const fs::path root = vkf::test::process_temp_dir("serve_shared_out");
  const fs::path out = root / "output", in = root / "input";
  fs::create_directories(out);
  fs::create_directories(in);
  std::vector<uint8_t> px(8 * 8 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  {
    auto png = vkf::io::encode_png(px, 8, 8, 3, {});
    std::ofstream(in / "src.png", std::ios::binary).write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
  }
  std::vector<std::unique_ptr<vkf::test::ServeProc>> servers;
  for (int i = 0; i < 2; ++i) {
    servers.push_back(std::make_unique<vkf::test::ServeProc>(std::vector<std::string>{
        "--data-dir", (root / ("data" + std::to_string(i))).string(), "--output-directory", out.string(),
        "--input-directory", in.string(), "--no-cache"}));
    REQUIRE(servers.back()->ok());
  }
  json g = {{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", "src.png"}}}}}};
  for (int k = 0; k < 4; ++k)
    g[std::to_string(10 + k)] = {{"class_type", "SaveImage"}, {"inputs", {{"images", {"1", 0}}, {"filename_prefix", "same"}}}};

  constexpr int kPrompts = 5;  // per server
  std::vector<std::pair<int, std::string>> ids;
  for (int p = 0; p < kPrompts; ++p)
    for (int sv = 0; sv < 2; ++sv) {  // interleaved, so both servers have work queued at once
      const std::string id = "s" + std::to_string(sv) + "-p" + std::to_string(p);
      auto r = servers[size_t(sv)]->request("POST", "/prompt", json{{"prompt", g}, {"prompt_id", id}, {"client_id", "t"}}.dump());
      INFO(r.body);
      REQUIRE(r.status == 200);
      ids.emplace_back(sv, id);
    }

  // Every prompt finishes (bounded: 120 s for all), successfully.
  std::set<std::string> names;
  size_t reported = 0;
  for (auto& [sv, id] : ids) {
    json e;
    for (int i = 0; i < 1200; ++i) {
      e = servers[size_t(sv)]->request("GET", "/history/" + id).json();
      if (e.is_object() && e.contains(id)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(id << ": " << e.dump());
    REQUIRE(e.is_object());
    REQUIRE(e.contains(id));
    REQUIRE(e[id]["status"]["status_str"] == "success");
    for (int k = 0; k < 4; ++k) {
      const json& imgs = e[id]["outputs"][std::to_string(10 + k)]["images"];
      REQUIRE(imgs.size() == 1);
      CHECK(imgs[0]["type"] == "output");
      CHECK(imgs[0]["subfolder"] == "");
      names.insert(imgs[0]["filename"].get<std::string>());
      ++reported;
    }
  }
  // 40 saves, 40 distinct names, 40 files: none overwritten, no temp file left behind.
  CHECK(reported == size_t(2 * kPrompts * 4));
  CHECK(names.size() == reported);
  std::set<std::string> on_disk;
  for (auto& f : fs::directory_iterator(out)) on_disk.insert(f.path().filename().string());
  CHECK(on_disk == names);
  for (auto& n : names) {
    INFO(n);
    CHECK(n.rfind("same_", 0) == 0);
    // Complete: each decodes to the source image (the PNG's IEND was written before the name appeared).
    auto img = vkf::io::load_image(out / n);
    REQUIRE(img.width == 8);
    REQUIRE(img.height == 8);
    float worst = 0;
    for (size_t i = 0; i < 64; ++i)
      for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(img.rgba[i * 4 + size_t(c)] * 255.0f - float(px[i * 3 + size_t(c)])));
    CHECK(worst < 0.51f);
  }
  // Either server serves any of them through /view (one folder).
  for (auto& n : {*names.begin(), *names.rbegin()})
    for (auto& s : servers) CHECK(s->request("GET", "/view?filename=" + n + "&type=output").status == 200);
}
