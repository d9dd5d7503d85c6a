#pragma once
// Shared check of the SD config tests: a call must fail with a ModelConfigError naming certain things.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "engine/models/sd_config.h"

namespace vkf::test {

// Expects `fn` to throw a ModelConfigError whose message contains every part of `parts`.
template <class Fn>
void require_config_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    FAIL("no error");
  } catch (const models::ModelConfigError& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const auto& p : parts) CHECK(msg.find(p) != std::string::npos);
  }
}

}  // namespace vkf::test
