// How frames reach the window: on a CPU device (lavapipe) through MIT-SHM (editor/x11_shm.h), on a GPU
// through the Vulkan swapchain; VKFLOW_EDITOR_PRESENT forces either. Both paths must show the same
// picture, so the screenshots of one graph taken through each are compared pixel for pixel.
#include <catch2/catch.hpp>

#include <regex>

#include "engine/io/png.h"
#include "tests/editor/editor_harness.h"

namespace fs = std::filesystem;
using namespace vkf::test::editor_harness;

namespace {

struct Shot {
  std::string device_type, path;  // from the VKFLOW_EDITOR_VERBOSE line
  vkf::io::DecodedImage image;
};

Shot screenshot(const vkf::test::TempDir& t, const std::string& name, const std::string& present) {
  const fs::path file = t.path() / name;
  auto args = common(t);
  args.insert(args.begin(), (kSrc / "graphs" / "txt2img.json").string());
  args.insert(args.end(), {"--screenshot", file.string(), "--no-profile"});
  std::vector<std::string> env = {"VKFLOW_EDITOR_VERBOSE=1"};
  if (!present.empty()) env.push_back("VKFLOW_EDITOR_PRESENT=" + present);
  auto r = editor(args, env);
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.err, m, std::regex(R"(\((cpu|gpu) device\): frames presented through ([a-z0-9_-]+))")));
  return {m[1], m[2], vkf::io::load_image(file)};
}

}  // namespace

#ifndef VKFLOW_EDITOR_X11_SHM
#define SKIP_IF_NO_SHM()                                                              \
  WARN("SKIPPED: vkflow-editor was built without libx11/libxext (no MIT-SHM path)"); \
  return;
#else
#define SKIP_IF_NO_SHM()
#endif

TEST_CASE("editor present: CPU devices present through MIT-SHM, with the swapchain's picture pixel for pixel", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  SKIP_IF_NO_SHM();
  vkf::test::TempDir t("editor_present");
  Shot def = screenshot(t, "default.png", "");
  WARN("device type " << def.device_type << ", default path " << def.path);
  if (def.device_type == "cpu") CHECK(def.path == "x11-shm");
  else CHECK(def.path != "x11-shm");

  Shot shm = def.path == "x11-shm" ? def : screenshot(t, "shm.png", "shm");
  Shot chain = def.path == "x11-shm" ? screenshot(t, "chain.png", "swapchain") : def;
  CHECK(shm.path == "x11-shm");
  CHECK(chain.path != "x11-shm");
  REQUIRE(shm.image.width == 1280);
  REQUIRE(shm.image.height == 720);
  REQUIRE(chain.image.width == shm.image.width);
  REQUIRE(chain.image.height == shm.image.height);
  // Same draw data, same rasteriser: only the route to the window differs, so no tolerance.
  size_t differ = 0;
  for (size_t i = 0; i < shm.image.rgba.size(); ++i) differ += shm.image.rgba[i] != chain.image.rgba[i];
  CHECK(differ == 0);
  // And it is a picture, not an empty frame: the canvas colour is not everywhere.
  size_t not_canvas = 0;
  for (size_t i = 0; i + 3 < shm.image.rgba.size(); i += 4)
    not_canvas += std::abs(shm.image.rgba[i] - 0x1E / 255.0f) > 0.02f;
  CHECK(not_canvas > shm.image.rgba.size() / 4 / 20);
}

TEST_CASE("editor present: VKFLOW_EDITOR_PRESENT=shm on a display without MIT-SHM falls back to the swapchain", "[editor_app]") {
  SKIP_IF_NO_EDITOR();
  SKIP_IF_NO_SHM();
  // Xvfb started without the extension: the editor says why and still draws.
  vkf::test::TempDir t("editor_noshm");
  const fs::path file = t.path() / "s.png";
  std::vector<std::string> argv = {"/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1280x720x24 -extension MIT-SHM"};
#ifdef VKFLOW_EDITOR_BINARY
  argv.push_back(VKFLOW_EDITOR_BINARY);
#endif
  auto args = common(t);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {(kSrc / "graphs" / "txt2img.json").string(), "--screenshot", file.string(), "--no-profile"});
  vkf::test::CliResult r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = vkf::test::run_captured(argv, {"VKFLOW_EDITOR_PRESENT=shm", "VKFLOW_EDITOR_VERBOSE=1", "XDG_CONFIG_HOME=" + default_config_home()});
    if (r.err.find("Xvfb failed to start") == std::string::npos) break;
  }
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("MIT-SHM presentation not used (the X server has no MIT-SHM)") != std::string::npos);
  CHECK(r.err.find("frames presented through x11-shm") == std::string::npos);
  auto img = vkf::io::load_image(file);
  CHECK(img.width == 1280);
}
