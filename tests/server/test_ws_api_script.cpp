// The end-to-end client test: tests/server/ws_api_test.py drives a spawned `vkflow serve` the way ComfyUI's
// script_examples/websockets_api_example.py does (urllib + a WebSocket client): txt2img with previews over
// /ws, execution_cached, /view, upload + img2img, interrupt, queue delete, SIGKILL mid-prompt and restart,
// history. It runs the bundled model on the GPU device, so it is not [cpu]. Every wait in the script is
// bounded, and the script kills the servers it started however it ends.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

TEST_CASE("serve: ComfyUI's websocket API example protocol against vkflow serve", "[server][e2e]") {
  if (!std::filesystem::exists("/usr/bin/python3")) {
    WARN("skipped: /usr/bin/python3 (with python3-websocket, from tools/deps.sh) is not installed");
    return;
  }
  const std::string cmd = std::string("timeout -k 10 300 /usr/bin/python3 ") + VKFLOW_SOURCE_DIR +
                          "/tests/server/ws_api_test.py " + VKFLOW_BINARY + " " + VKFLOW_SOURCE_DIR;
  const int st = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(st));
  if (WEXITSTATUS(st) == 77) {  // the script says why on stdout
    WARN("skipped: the python3 websocket module (Debian python3-websocket, tools/deps.sh) is not installed");
    return;
  }
  REQUIRE(WEXITSTATUS(st) == 0);
}
