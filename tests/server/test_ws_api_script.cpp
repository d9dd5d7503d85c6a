// The end-to-end client test: tests/server/ws_api_test.py drives a spawned `vkflow serve` the way ComfyUI's
// script_examples/websockets_api_example.py does (urllib + a WebSocket client): txt2img with previews over
// /ws, /view, upload + img2img, interrupt, queue delete, SIGKILL mid-prompt and restart, history.
// It runs the bundled model on the GPU device, so it is not [cpu]. Every wait in the script is bounded.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

TEST_CASE("serve: ComfyUI's websocket API example protocol against vkflow serve", "[server][e2e]") {
  if (!std::filesystem::exists("/usr/bin/python3")) {
    WARN("skipped: /usr/bin/python3 (with python3-websocket, from tools/deps.sh) is not installed");
    return;
  }
  const std::string cmd = std::string("timeout 300 /usr/bin/python3 ") + VKFLOW_SOURCE_DIR +
                          "/tests/server/ws_api_test.py " + VKFLOW_BINARY + " " + VKFLOW_SOURCE_DIR;
  REQUIRE(std::system(cmd.c_str()) == 0);
}
