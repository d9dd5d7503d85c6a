// `vkflow serve`'s flags through the built binary: --help explains every flag the parser accepts, and a
// bad flag or value exits 2 naming it, before anything binds.
#include <catch2/catch.hpp>

#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace {
vkf::test::CliResult serve(std::vector<std::string> args) {
  args.insert(args.begin(), {VKFLOW_BINARY, "serve"});
  return vkf::test::run_captured(args);
}
}  // namespace

TEST_CASE("serve --help explains every flag", "[server][cpu]") {
  auto r = serve({"--help"});
  REQUIRE(r.code == 0);
  // Every option engine/cli/cmd_serve.cpp parses (keep in step with it).
  for (const char* flag : {"--listen ADDR", "--port N", "--auth-token TOKEN", "VKFLOW_AUTH_TOKEN", "--enable-cors-header [ORIGIN]",
                           "--threads N", "--timeout S", "--quiet, -q", "--data-dir DIR", "--output-directory DIR",
                           "--output-dir", "--input-directory DIR", "--input-dir", "--temp-directory DIR", "--temp-dir",
                           "--models-dir DIR", "--device N", "VKFLOW_DEVICE", "--weights f32|f16",
                           "--preview-method auto|latent2rgb|none", "--no-cache", "--device-memory GIB", "--skip-memory-check", "--max-upload-size MB",
                           "--max-body-size MB", "--max-image-pixels N", "--max-ws-message KB", "--help, -h"}) {
    INFO(flag);
    CHECK(r.out.find(flag) != std::string::npos);
  }
  CHECK(serve({"-h"}).out == r.out);
}

TEST_CASE("serve: a bad flag or value exits 2 naming it", "[server][cpu]") {
  const std::string data = (vkf::test::process_temp_dir("serve_cli") / "data").string();
  for (auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--bogus"}, "--bogus"},
           {{"--port", "70000"}, "--port"},
           {{"--port", "80x"}, "--port"},
           {{"--weights", "f8"}, "--weights"},
           {{"--preview-method", "taesd"}, "--preview-method"},
           {{"--max-upload-size", "0"}, "--max-upload-size"},
           {{"--device-memory", "0"}, "--device-memory"},
           {{"--threads", "-1"}, "--threads"},
           {{"--listen", "not-an-ip", "--port", "0", "--data-dir", data}, "--listen"}}) {
    auto r = serve(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.code == (args[0] == "--listen" ? 1 : 2));  // --listen is checked when binding (a runtime error)
    CHECK(r.err.find(says) != std::string::npos);
  }
}
