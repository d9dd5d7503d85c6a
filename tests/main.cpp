// Catch2 main for vkflow_tests. Validation messages raised by any test fail the process that ran it
// (ctest runs each test case in its own process, so the failure lands on the test that caused it).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "tests/support/gpu.h"
#include "tests/support/temp_dir.h"

namespace vkf::test {
namespace {
std::unique_ptr<vk::Context>& holder() {
  static std::unique_ptr<vk::Context> c;
  return c;
}
}  // namespace
vk::Context& gpu() {
  if (!holder()) holder() = std::make_unique<vk::Context>();
  return *holder();
}
bool gpu_created() { return holder() != nullptr; }
}  // namespace vkf::test

int main(int argc, char** argv) {
  // Never touch the user's pipeline cache: this process and the CLIs it runs write to a temp folder.
  setenv("VKFLOW_PIPELINE_CACHE_DIR", vkf::test::process_temp_dir("pipeline_cache").c_str(), 1);
  // Loaders stay lazy (no ahead-of-time preparation at 512x512 for tiny test models), here and in the CLIs
  // the tests run; the [prepare] tests switch it on (models::set_prepare_override). An explicit setting wins.
  setenv("VKFLOW_PREPARE", "0", 0);
  int rc = Catch::Session().run(argc, argv);
  if (vkf::test::gpu_created()) {
    auto msgs = vkf::test::gpu().take_validation_messages();
    if (!msgs.empty()) {
      std::cerr << "FAILED: " << msgs.size() << " Vulkan validation message(s) during this run:\n";
      for (auto& m : msgs) std::cerr << "  " << m << "\n";
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}
