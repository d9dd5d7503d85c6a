// Real ComfyUI clients from npm against spawned `vkflow serve`s (tests/server/npm/clients_test.mjs):
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

// Scale-out and load (tests/server/npm/pool_test.mjs): ComfyPool over two instances, then 16 clients and 20
// prompts twice on one, every prompt completed exactly once, RSS growth bounded. Not a timed test: the
// figures it prints are for reading, only completion and memory are checked.
TEST_CASE("serve: ComfyPool spreads a batch over two instances, small load run", "[server][e2e][npm]") {
  const std::string src = VKFLOW_SOURCE_DIR;
  if (!std::filesystem::exists("/usr/bin/node") || !std::filesystem::exists(src + "/tools/npm/node_modules/ws")) {
    WARN("skipped: node or tools/npm/node_modules (tools/deps.sh runs npm ci) is missing");
    return;
  }
  const std::string cmd = "timeout -k 10 300 /usr/bin/node " + src + "/tests/server/npm/pool_test.mjs " +
                          VKFLOW_BINARY + " " + src;
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// The soak variant (tests/server/npm/soak_test.mjs): the server SIGKILLed twice mid-prompt while prompts
// keep arriving, restarted on the same port; every prompt completes exactly once.
TEST_CASE("serve: SIGKILLed twice mid-run, restarted, no prompt lost or duplicated", "[server][e2e][npm]") {
  const std::string src = VKFLOW_SOURCE_DIR;
  if (!std::filesystem::exists("/usr/bin/node") || !std::filesystem::exists(src + "/tools/npm/node_modules/ws")) {
    WARN("skipped: node or tools/npm/node_modules (tools/deps.sh runs npm ci) is missing");
    return;
  }
  const std::string cmd = "timeout -k 10 300 /usr/bin/node " + src + "/tests/server/npm/soak_test.mjs " +
                          VKFLOW_BINARY + " " + src;
  REQUIRE(std::system(cmd.c_str()) == 0);
}
