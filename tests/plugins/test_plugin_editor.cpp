// vkflow-editor loads plugins as every vkflow command does (--plugin, --plugins-dir, the default folders):
// a plugin sampler's node is found through the palette by real key events, added, and saved; without the
// plugin the same palette search finds nothing. Under xvfb-run, skipped with the reason when there is no
// editor or X server.
#include <catch2/catch.hpp>

#include "tests/editor/editor_harness.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/temp_dir.h"

using namespace vkf::test::editor_harness;
namespace fs = std::filesystem;

TEST_CASE("editor app: --plugin puts the plugin's sampler node in the palette", "[editor_app][plugins]") {
  SKIP_IF_NO_EDITOR();
  vkf::test::TempDir t("editor_plugin");
  const fs::path out = t.path() / "with.json", out2 = t.path() / "without.json";
  auto script = [&](const fs::path& save, int expect) {
    return "new\n"
           "frames 2\n"
           "canvas-dblclick 300 300\n"
           "type \"PluginSampler_euler_churn\"\n"
           "key enter\n"
           "frames 2\n"
           "expect-nodes " + std::to_string(expect) + "\n"
           "save " + save.string() + " api\n"
           "quit\n";
  };
  write(t.path() / "with.txt", script(out, 1));
  auto args = common(t);
  args.insert(args.end(), {"--plugin", vkf::test::plugin_file("euler_churn_plugin"), "--script",
                           (t.path() / "with.txt").string()});
  auto r = editor(args);
  REQUIRE(r.code == 0);
  const auto j = read_json(out);
  REQUIRE(j.size() == 1);
  const auto& node = j.begin().value();
  CHECK(node.at("class_type") == "PluginSampler_euler_churn");
  CHECK(node.at("inputs").contains("s_churn"));  // the declared parameters, with their defaults

  // without the plugin (and an empty plugin folder): the search adds nothing
  fs::create_directories(t.path() / "no_plugins");
  write(t.path() / "without.txt", script(out2, 0));
  auto args2 = common(t);
  args2.insert(args2.end(), {"--plugins-dir", (t.path() / "no_plugins").string(), "--script",
                             (t.path() / "without.txt").string()});
  auto r2 = editor(args2);
  CHECK(r2.code == 0);
  CHECK(read_json(out2).empty());
}
