// Where the test and example plugins are built (plugins/CMakeLists.txt).
#pragma once
#include <string>

namespace vkf::test {
// test_plugin_* are in tests/, the examples in examples/.
inline std::string plugin_file(const std::string& target) {
  const bool is_test = target.rfind("test_plugin_", 0) == 0 || target == "no_such_plugin";
  return std::string(VKFLOW_PLUGIN_DIR) + (is_test ? "/tests/" : "/examples/") + target + ".so";
}
}  // namespace vkf::test
