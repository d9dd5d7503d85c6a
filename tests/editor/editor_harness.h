// Running the built `vkflow-editor` from tests: under a fresh Xvfb at 1280x720, with the recent-files
// list in a per-process temporary config folder (never the user's), skipped with the reason when the
// editor is not built or xvfb-run is missing.
#pragma once
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace vkf::test::editor_harness {

inline const std::filesystem::path kSrc = VKFLOW_SOURCE_DIR;

// Why the editor cannot be run here ("" when it can).
inline std::string skip_reason() {
#ifndef VKFLOW_EDITOR_BINARY
  return "vkflow-editor is not built (needs libimgui-dev and libglfw3-dev)";
#else
  if (!std::filesystem::exists("/usr/bin/xvfb-run")) return "xvfb-run is not installed (apt-get install xvfb xauth)";
  return "";
#endif
}

// A config folder for this test process, so runs never touch ~/.config/vkflow.
inline std::string default_config_home() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("vkflow_editor_cfg_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir.string();
}

// Runs the editor (retrying when the X server fails to start, which -a can race into when tests run in
// parallel). `env` NAME=VALUE entries go to the editor; XDG_CONFIG_HOME defaults to default_config_home().
inline CliResult editor(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {"/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1280x720x24"};
#ifdef VKFLOW_EDITOR_BINARY
  argv.push_back(VKFLOW_EDITOR_BINARY);
#endif
  argv.insert(argv.end(), args.begin(), args.end());
  bool has_cfg = false;
  for (auto& e : env) has_cfg |= e.rfind("XDG_CONFIG_HOME=", 0) == 0;
  if (!has_cfg) env.push_back("XDG_CONFIG_HOME=" + default_config_home());
  CliResult r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = run_captured(argv, env);
    if (r.err.find("Xvfb failed to start") == std::string::npos) break;
  }
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  return r;
}

inline void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// The run folders of `vkflow run`, inside the test's temporary folder (models and inputs from the tree).
inline std::vector<std::string> common(const TempDir& t) {
  return {"--models-dir", (kSrc / "models").string(), "--output-dir", (t.path() / "out").string(),
          "--temp-dir", (t.path() / "temp").string(), "--input-dir", (kSrc / "graphs" / "input").string()};
}

}  // namespace vkf::test::editor_harness

#define SKIP_IF_NO_EDITOR()                                                          \
  if (std::string why = vkf::test::editor_harness::skip_reason(); !why.empty()) {    \
    WARN("SKIPPED: " << why);                                                        \
    return;                                                                          \
  }
