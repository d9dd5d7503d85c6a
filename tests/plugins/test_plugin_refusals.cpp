// The loader's refusals that need another plugin or a registry event to happen (CPU only, under ASan too):
// a sampler name or plugin id taken by another plugin, malformed parameter descriptors, a registration
// rolled back part way (its sampler node goes with it), and the folders plugins are found in.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "engine/graph/registry.h"
#include "engine/plugin/plugin_host.h"
#include "engine/sampling/sampler.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
using vkf::test::plugin_file;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void require_ok_plugin() {
  const auto ok = plugin::load_plugin(plugin_file("test_plugin_ok"));
  INFO(ok.error);
  REQUIRE((ok.loaded || ok.error == "already loaded"));
}

// Sets an environment variable for one scope (restored after).
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("plugin loader: a sampler name or plugin id another plugin holds is refused, the first stays",
          "[plugins][cpu]") {
  require_ok_plugin();
  const auto first = sampling::sampler_registry().find("tp_ok");
  REQUIRE(first);
  const auto dup = plugin::load_plugin(plugin_file("test_plugin_dup_other"));
  INFO(dup.error);
  CHECK_FALSE(dup.loaded);
  CHECK(contains(dup.error, "sampler 'tp_ok' is already registered (by plugin "));
  CHECK(contains(dup.error, "test_plugin_ok.so"));
  CHECK(sampling::sampler_registry().find("tp_ok") == first);  // the same descriptor, not replaced

  const auto id = plugin::load_plugin(plugin_file("test_plugin_dup_id"));
  INFO(id.error);
  CHECK_FALSE(id.loaded);
  CHECK(contains(id.error, "plugin id 'org.vkflow.test.ok' is already loaded from "));
  CHECK(contains(id.error, "test_plugin_ok.so"));
  CHECK_FALSE(sampling::is_sampler_name("tp_dup_id"));
}

TEST_CASE("plugin loader: malformed parameter descriptors are refused naming the parameter", "[plugins][cpu]") {
  struct Case {
    const char* mode;
    const char* reason;
  } cases[] = {
      {"bad_param_name", "parameter 0 has an invalid name 'has space'"},
      {"bad_param_range", "parameter 'strength' needs finite min <= default <= max"},
      {"bad_param_default", "parameter 'strength' needs finite min <= default <= max"},
      {"bad_param_nan", "parameter 'strength' needs finite min <= default <= max"},
      {"bad_param_twice", "parameter 'strength' declared twice"},
      {"bad_param_type", "parameter 'strength' has an unknown type"},
      {"bad_param_int", "parameter 'strength' has a fractional bound"},
      {"bad_param_size", "parameter 0 has struct_size 8"},
      {"bad_param_null", "params must hold param_count"},
  };
  for (const auto& c : cases) {
    const std::string target = std::string("test_plugin_") + c.mode, sampler = std::string("tp_") + c.mode;
    INFO(target);
    const auto r = plugin::load_plugin(plugin_file(target));
    INFO(r.error);
    CHECK_FALSE(r.loaded);
    CHECK(contains(r.error, "malformed sampler descriptor"));
    CHECK(contains(r.error, "sampler '" + sampler + "'"));
    CHECK(contains(r.error, c.reason));
    CHECK_FALSE(sampling::is_sampler_name(sampler));
    CHECK(graph::Registry::instance().find("PluginSampler_" + sampler) == nullptr);
  }
}

TEST_CASE("plugin loader: a registration rolled back part way takes its sampler node with it", "[plugins][cpu]") {
  // While the plugin's first sampler is being added, this listener registers the name of its second one,
  // so adding the second fails and the loader removes the first again.
  static const graph::NodeDef* seen_node = nullptr;
  static bool armed = true;
  sampling::sampler_registry().subscribe([](const sampling::SamplerDesc& d, bool added) {
    if (!added || d.name != "tp_rollback" || !armed) return;
    armed = false;
    seen_node = graph::Registry::instance().find("PluginSampler_tp_rollback");
    sampling::SamplerDesc taken;
    taken.name = "tp_rollback_b";
    taken.origin = "test";
    taken.run = [](auto&, Tensor x) { return x; };
    sampling::sampler_registry().add(std::move(taken));
  });
  const auto r = plugin::load_plugin(plugin_file("test_plugin_rollback"));
  INFO(r.error);
  CHECK_FALSE(r.loaded);
  CHECK(contains(r.error, "sampler 'tp_rollback_b' is already registered (by test)"));
  REQUIRE(seen_node);  // the node existed while its sampler did...
  CHECK(seen_node->class_type() == "PluginSampler_tp_rollback");  // ...and its definition is still valid
  CHECK_FALSE(sampling::is_sampler_name("tp_rollback"));
  CHECK(graph::Registry::instance().find("PluginSampler_tp_rollback") == nullptr);
  const auto names = graph::Registry::instance().names();
  CHECK(std::find(names.begin(), names.end(), "PluginSampler_tp_rollback") == names.end());
  CHECK_FALSE(graph::Registry::instance().object_info().contains("PluginSampler_tp_rollback"));
  CHECK(sampling::sampler_registry().remove("tp_rollback_b"));
}

TEST_CASE("plugin folders: beside --models-dir and under XDG_DATA_HOME (else ~/.local/share), or --plugins-dir",
          "[plugins][cpu]") {
  {
    EnvVar xdg("XDG_DATA_HOME", "/srv/xdg");
    CHECK(plugin::plugin_dirs("", "models") == std::vector<fs::path>{"plugins", "/srv/xdg/vkflow/plugins"});
    CHECK(plugin::plugin_dirs("", "/opt/sd/models/") == std::vector<fs::path>{"/opt/sd/plugins", "/srv/xdg/vkflow/plugins"});
    CHECK(plugin::plugin_dirs("", "data/m")[0] == fs::path("data/plugins"));
    CHECK(plugin::plugin_dirs("/my/plugins", "models") == std::vector<fs::path>{"/my/plugins"});
  }
  {
    EnvVar xdg("XDG_DATA_HOME", nullptr);
    EnvVar home("HOME", "/home/u");
    CHECK(plugin::plugin_dirs("", "models") == std::vector<fs::path>{"plugins", "/home/u/.local/share/vkflow/plugins"});
  }
  // end to end: `vkflow plugins` finds one plugin beside --models-dir and one under $XDG_DATA_HOME
  test::TempDir t("plugin_dirs");
  fs::create_directories(t.path() / "models");
  fs::create_directories(t.path() / "plugins");
  fs::create_directories(t.path() / "xdg" / "vkflow" / "plugins");
  fs::copy_file(plugin_file("dpmpp_2m_plugin"), t.path() / "plugins" / "dpmpp_2m_plugin.so");
  fs::copy_file(plugin_file("euler_churn_plugin"), t.path() / "xdg" / "vkflow" / "plugins" / "euler_churn_plugin.so");
  const std::string xdg_env = "XDG_DATA_HOME=" + (t.path() / "xdg").string();
  auto r = test::run_captured({VKFLOW_BINARY, "plugins", "--models-dir", (t.path() / "models").string()}, {xdg_env});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, (t.path() / "plugins" / "dpmpp_2m_plugin.so").string() + "  loaded"));
  CHECK(contains(r.out, (t.path() / "xdg" / "vkflow" / "plugins" / "euler_churn_plugin.so").string() + "  loaded"));
  // --plugins-dir replaces both folders
  auto only = test::run_captured({VKFLOW_BINARY, "plugins", "--models-dir", (t.path() / "models").string(),
                                  "--plugins-dir", (t.path() / "plugins").string()}, {xdg_env});
  INFO(only.out << only.err);
  CHECK(contains(only.out, "dpmpp_2m_plugin.so  loaded"));
  CHECK_FALSE(contains(only.out, "euler_churn_plugin.so"));
  // and `vkflow run` (any command) loads from the same folders: the plugin sampler's node is known
  auto nodes = test::run_captured({VKFLOW_BINARY, "nodes", "--models-dir", (t.path() / "models").string(),
                                   "PluginSampler_euler_churn"}, {xdg_env});
  INFO(nodes.out << nodes.err);
  CHECK(nodes.code == 0);
  CHECK(contains(nodes.out, "s_churn"));
}
