// graphs/plugin_sampler.json end to end through `vkflow run --plugin`: the plugin sampler node in a
// SamplerCustomAdvanced graph on the tiny golden checkpoint. With s_churn = 0 its image equals the
// built-in euler's pixel for pixel (the same fused ops); with churn it differs; without the plugin the
// graph is refused naming the node class.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "engine/io/png.h"
#include "tests/e2e/e2e_util.h"
#include "tests/plugins/plugin_paths.h"

using namespace vkf::e2e;

namespace {

std::vector<std::string> args(const std::string& graph, const ModelsDir& m, const TempDir& out,
                              std::vector<std::string> sets, bool plugin = true) {
  std::vector<std::string> a = {"run", (kGraphs / graph).string(), "--quiet", "--models-dir", m.path().string(),
                                "--output-dir", out.path().string()};
  if (plugin) a.insert(a.end(), {"--plugin", vkf::test::plugin_file("euler_churn_plugin")});
  for (auto& s : sets) a.insert(a.end(), {"--set", s});
  return a;
}

std::vector<int> image_of(const RunOutput& r) {
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::stringstream ss(r.out);
  std::string line;
  std::vector<std::string> paths;
  while (std::getline(ss, line))
    if (!line.empty() && line[0] != '#') paths.push_back(line);
  REQUIRE(paths.size() == 1);
  const auto img = vkf::io::load_image(paths[0]);
  CHECK(img.width > 0);
  std::vector<int> v;
  for (size_t i = 0; i < img.rgba.size(); ++i)
    if (i % 4 != 3) v.push_back(int(std::lround(img.rgba[i] * 255.0f)));
  return v;
}

int max_diff(const std::vector<int>& a, const std::vector<int>& b) {
  REQUIRE(a.size() == b.size());
  int m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("e2e: graphs/plugin_sampler.json runs a plugin sampler and makes the expected image", "[plugins][e2e]") {
  ModelsDir m;
  TempDir o1("plugin_graph"), o2("plugin_graph"), o3("plugin_graph"), o4("plugin_graph");
  const std::vector<std::string> common = {"4.ckpt_name=tiny.safetensors", "17.steps=4"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };
  const auto plain = image_of(vkflow(args("plugin_sampler.json", m, o1, with({"16.s_churn=0"}))));
  const auto builtin = image_of(vkflow(args("custom_sampling.json", m, o2, with({"16.sampler_name=euler"}), false)));
  CHECK(max_diff(plain, builtin) == 0);
  const auto churn = image_of(vkflow(args("plugin_sampler.json", m, o3, with({}))));
  CHECK(max_diff(churn, plain) > 0);
  // without the plugin: refused before running, naming the node class
  auto r = vkflow(args("plugin_sampler.json", m, o4, with({}), false));
  CHECK(r.code == 2);
  CHECK(r.err.find("PluginSampler_euler_churn") != std::string::npos);
}

TEST_CASE("e2e: a plugin sampler's error or NaN fails the run naming the node and the plugin, no PNG",
          "[plugins][e2e]") {
  ModelsDir m;
  for (const char* mode : {"nan", "sample_error"}) {
    INFO(mode);
    TempDir out("plugin_graph_err");
    std::vector<std::string> a = {"run", (kGraphs / "custom_sampling.json").string(), "--quiet", "--models-dir",
                                  m.path().string(), "--output-dir", out.path().string(), "--plugin",
                                  vkf::test::plugin_file(std::string("test_plugin_") + mode), "--set",
                                  "4.ckpt_name=tiny.safetensors", "--set", "17.steps=3", "--set",
                                  std::string("16.sampler_name=tp_") + mode};
    auto r = vkflow(a);
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find("node 13 (SamplerCustomAdvanced)") != std::string::npos);
    CHECK(r.err.find(std::string("plugin 'org.vkflow.test.") + mode + "'") != std::string::npos);
    CHECK(files_under(out.path()).empty());
  }
}

TEST_CASE("e2e: with --weights f16 a plugin sampler gets F32 tensors and matches the built-in exactly",
          "[plugins][e2e]") {
  // The model runs in half precision; denoise hands the plugin its prediction converted to F32, so
  // dpmpp_2m as a plugin (the built-in's fused ops) gives the built-in's image pixel for pixel.
  ModelsDir m;
  TempDir o1("plugin_f16"), o2("plugin_f16"), o3("plugin_f16");
  auto run = [&](const TempDir& out, const std::string& sampler, const std::string& weights) {
    std::vector<std::string> a = {"run", (kGraphs / "custom_sampling.json").string(), "--quiet", "--models-dir",
                                  m.path().string(), "--output-dir", out.path().string(), "--weights", weights,
                                  "--plugin", vkf::test::plugin_file("dpmpp_2m_plugin"), "--set",
                                  "4.ckpt_name=tiny.safetensors", "--set", "17.steps=4", "--set",
                                  "16.sampler_name=" + sampler};
    return image_of(vkflow(a));
  };
  const auto plugin16 = run(o1, "dpmpp_2m_plugin", "f16");
  const auto builtin16 = run(o2, "dpmpp_2m", "f16");
  CHECK(max_diff(plugin16, builtin16) == 0);
  // and half precision did run: the f32 image is close but not the same
  const auto plugin32 = run(o3, "dpmpp_2m_plugin", "f32");
  const int d = max_diff(plugin16, plugin32);
  INFO("f16 vs f32 max pixel difference " << d);
  CHECK(d > 0);
  CHECK(d <= 16);
}
