// Plugin loading (engine/plugin/plugin_host.h) without a GPU: the ABI handshake and every refusal path,
// each with a test plugin built for it (plugins/tests/test_plugin.c). Run under ASan too ([cpu]).
#include <catch2/catch.hpp>

#include "engine/plugin/plugin_host.h"
#include "engine/sampling/sampler.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/temp_dir.h"

#include <fstream>

using namespace vkf;
using vkf::test::plugin_file;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("plugin loader: a current plugin loads and its sampler is registered with its origin", "[plugins][cpu]") {
  const auto r = plugin::load_plugin(plugin_file("test_plugin_ok"));
  INFO(r.error);
  REQUIRE(r.loaded);
  CHECK(r.abi == plugin::host_abi_version());
  CHECK(r.id == "org.vkflow.test.ok");
  REQUIRE(r.samplers == std::vector<std::string>{"tp_ok"});
  const auto d = sampling::sampler_registry().find("tp_ok");
  REQUIRE(d);
  CHECK(contains(d->origin, "test_plugin_ok.so"));
  CHECK(sampling::is_sampler_name("tp_ok"));
  // the same file again: refused, the first stays registered
  const auto again = plugin::load_plugin(plugin_file("test_plugin_ok"));
  CHECK_FALSE(again.loaded);
  CHECK(again.error == "already loaded");
  CHECK(sampling::is_sampler_name("tp_ok"));
}

TEST_CASE("plugin loader: ABI major mismatch and a newer minor are refused with the versions", "[plugins][cpu]") {
  const auto major = plugin::load_plugin(plugin_file("test_plugin_major"));
  CHECK_FALSE(major.loaded);
  CHECK(major.abi == "2.1");
  CHECK(contains(major.error, "built for ABI 2.1"));
  CHECK(contains(major.error, "another major version"));
  CHECK_FALSE(sampling::is_sampler_name("tp_major"));

  const auto newer = plugin::load_plugin(plugin_file("test_plugin_newer_minor"));
  CHECK_FALSE(newer.loaded);
  CHECK(contains(newer.error, "newer than this vkflow's " + plugin::host_abi_version()));
  CHECK_FALSE(sampling::is_sampler_name("tp_newer_minor"));
}

TEST_CASE("plugin loader: an older minor with a truncated sampler descriptor loads", "[plugins][cpu]") {
  const auto r = plugin::load_plugin(plugin_file("test_plugin_old_minor"));
  INFO(r.error);
  REQUIRE(r.loaded);
  CHECK(r.abi == "1.0");
  const auto d = sampling::sampler_registry().find("tp_old_minor");
  REQUIRE(d);
  CHECK(d->description.empty());  // 1.1's field was past its struct_size: not read
  CHECK(d->display_name == "tp_old_minor");
}

TEST_CASE("plugin loader: missing entry, init failure, duplicates and malformed descriptors are skipped",
          "[plugins][cpu]") {
  const auto builtins = sampling::sampler_registry().find("euler");
  REQUIRE(builtins);
  struct Case {
    const char* target;
    const char* reason;
    const char* sampler;
  } cases[] = {
      {"test_plugin_no_entry", "no entry symbol 'vkflow_plugin_entry'", "tp_no_entry"},
      {"test_plugin_init_fail", "init failed", "tp_init_fail"},
      {"test_plugin_dup_builtin", "sampler 'euler' is already registered (by built-in)", nullptr},
      {"test_plugin_dup_name", "sampler 'tp_dup_name' registered twice", "tp_dup_name"},
      {"test_plugin_bad_desc", "unknown flag bits", "tp_bad_desc"},
  };
  for (const auto& c : cases) {
    INFO(c.target);
    const auto r = plugin::load_plugin(plugin_file(c.target));
    CHECK_FALSE(r.loaded);
    INFO(r.error);
    CHECK(contains(r.error, c.reason));
    if (c.sampler) CHECK_FALSE(sampling::is_sampler_name(c.sampler));
  }
  CHECK(sampling::sampler_registry().find("euler")->origin == "built-in");
  const auto missing = plugin::load_plugin(plugin_file("no_such_plugin"));
  CHECK_FALSE(missing.loaded);
  CHECK(missing.error == "not a file");
  // every attempt is in the report list
  int failed = 0;
  for (const auto& r : plugin::plugin_reports()) failed += r.loaded ? 0 : 1;
  CHECK(failed >= 6);
}

TEST_CASE("plugin loader: a malformed plugin (bad file, unresolved symbol, garbage entry, exception) is "
          "reported and skipped", "[plugins][cpu]") {
  struct Case {
    const char* target;
    const char* reason;
  } cases[] = {
      {"test_plugin_undefined_symbol", "cannot load: "},
      {"test_plugin_bad_entry", "entry struct_size 4 is smaller than ABI 1.0's"},
      {"test_plugin_no_init", "entry has no init function"},
      {"test_plugin_no_sampler", "init registered no sampler"},
      {"test_plugin_bad_kernel", "kernel 'broken'"},
      {"test_plugin_throw_init", "an exception escaped init"},
  };
  for (const auto& c : cases) {
    INFO(c.target);
    const auto r = plugin::load_plugin(plugin_file(c.target));
    INFO(r.error);
    CHECK_FALSE(r.loaded);
    CHECK(contains(r.path, std::string(c.target) + ".so"));  // the report names the file
    CHECK(contains(r.error, c.reason));
  }
  // dlopen's own reason for the unresolved symbol, and the compiler's for the broken kernel
  CHECK(contains(plugin::load_plugin(plugin_file("test_plugin_undefined_symbol")).error, "already loaded"));
  bool saw_symbol = false, saw_glsl = false;
  for (const auto& r : plugin::plugin_reports()) {
    saw_symbol |= contains(r.error, "vkflow_test_no_such_function");
    saw_glsl |= contains(r.error, "undeclared_thing");
  }
  CHECK(saw_symbol);
  CHECK(saw_glsl);
  for (const char* s : {"tp_undefined_symbol", "tp_bad_entry", "tp_no_init", "tp_bad_kernel"})
    CHECK_FALSE(sampling::is_sampler_name(s));

  // not a shared library at all: garbage bytes with a .so name, and an empty file
  test::TempDir tmp("plugin_garbage");
  {
    std::ofstream f(tmp.path() / "garbage.so", std::ios::binary);
    for (int i = 0; i < 4096; ++i) f.put(char((i * 2654435761u) >> 13));
  }
  std::ofstream(tmp.path() / "empty.so").close();
  for (const char* name : {"garbage.so", "empty.so"}) {
    const auto r = plugin::load_plugin(tmp.path() / name);
    INFO(r.error);
    CHECK_FALSE(r.loaded);
    CHECK(contains(r.path, name));
    CHECK(contains(r.error, "cannot load: "));
  }
  // the engine keeps working: a good plugin still loads after all of these
  const auto ok = plugin::load_plugin(plugin_file("test_plugin_ok"));
  CHECK((ok.loaded || ok.error == "already loaded"));
  CHECK(sampling::is_sampler_name("euler"));
}
