// Real ComfyUI clients from npm against a spawned `vkflow serve` (tests/server/npm/clients_test.mjs):
// @saintno/comfyui-sdk, @stable-canvas/comfyui-client, comfy-ui-client. Bundled model on the Vulkan device
// (lavapipe in CI), so not [cpu]. Bounded by `timeout`; skipped (with the reason) without node or the
// clients that tools/deps.sh installs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

TEST_CASE("serve: npm ComfyUI clients drive vkflow serve unchanged", "[server][e2e][npm]") {
  const std::string src = VKFLOW_SOURCE_DIR;
  if (!std::filesystem::exists("/usr/bin/node") || !std::filesystem::exists(src + "/tools/npm/node_modules/ws")) {
    WARN("skipped: node or tools/npm/node_modules (tools/deps.sh runs npm ci) is missing");
    return;
  }
  const std::string cmd = "timeout -k 10 400 /usr/bin/node " + src + "/tests/server/npm/clients_test.mjs " +
                          VKFLOW_BINARY + " " + src;
  REQUIRE(std::system(cmd.c_str()) == 0);
}
