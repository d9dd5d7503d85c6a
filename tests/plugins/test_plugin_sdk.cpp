// The plugin SDK from a plugin author's side: the public header compiles alone as strict C99, a plugin
// builds in its own CMake project against only the installed header (cmake --install), and the CLI
// (`vkflow plugins`, `vkflow nodes --json`) shows what plugins registered.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/plugin/plugin_host.h"
#include "engine/sampling/sampler.h"
#include "tests/plugins/plugin_paths.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

// A complete minimal plugin, as plugins/README.md shows it.
const char* kPluginSource = R"(#include <math.h>
#include "vkflow_plugin.h"
static const vkflow_tensor_ops_t* ops;
static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* result) {
  vkflow_tensor_t x = c->x;
  uint32_t i;
  for (i = 0; i + 1 < c->sigma_count; ++i) {
    vkflow_tensor_t d = NULL;
    const double s0 = c->sigmas[i], s1 = c->sigmas[i + 1];
    vkflow_result_t rc = c->api->denoise(c->run, x, s0, &d, NULL);
    if (rc != VKFLOW_OK) return rc;
    { const double k[2] = {s1 / s0, 1.0 - s1 / s0}; const vkflow_tensor_t v[2] = {x, d};
      rc = ops->lincomb(c->run, x, 2, k, v, 0.0); }
    if (rc == VKFLOW_OK) rc = c->api->step_done(c->run, (int32_t)i, (int32_t)c->sigma_count - 1, x, d);
    ops->release(c->run, d);
    if (rc != VKFLOW_OK) return rc;
  }
  *result = x;
  return VKFLOW_OK;
}
static vkflow_result_t init(const vkflow_host_t* host) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)host->get_capability(host, VKFLOW_CAP_SAMPLERS);
  vkflow_sampler_desc_t d = {0};
  ops = (const vkflow_tensor_ops_t*)host->get_capability(host, VKFLOW_CAP_TENSOR_OPS);
  if (!reg || !ops) return VKFLOW_UNSUPPORTED;
  d.struct_size = sizeof d;
  d.name = "standalone_euler";
  d.sample = sample;
  return reg->register_sampler(host, &d);
}
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.example.standalone_euler", "Standalone Euler",
    "1.0.0", init, NULL};
)";

const char* kProject = R"(cmake_minimum_required(VERSION 3.18)  # find_path(... REQUIRED) needs 3.18
project(standalone_euler C)
find_path(VKFLOW_PLUGIN_INCLUDE vkflow_plugin.h REQUIRED)
add_library(standalone_euler MODULE plugin.c)
target_include_directories(standalone_euler PRIVATE ${VKFLOW_PLUGIN_INCLUDE})
set_target_properties(standalone_euler PROPERTIES PREFIX "" C_STANDARD 99 C_VISIBILITY_PRESET hidden)
target_compile_options(standalone_euler PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(standalone_euler PRIVATE m)
)";

}  // namespace

TEST_CASE("vkflow_plugin.h compiles alone as strict C99 (and as C++)", "[plugins][cpu]") {
  test::TempDir tmp("plugin_header");
  write(tmp.path() / "only.c", "#include \"vkflow_plugin.h\"\nint main(void) { return sizeof(vkflow_host_t) > 0 ? 0 : 1; }\n");
  const std::string inc = std::string(" -I") + VKFLOW_PLUGIN_INCLUDE_DIR + " ";
  auto c = test::run_shell(std::string(VKFLOW_C_COMPILER) + " -std=c99 -Wall -Wextra -Werror -pedantic" + inc +
                           (tmp.path() / "only.c").string() + " -o " + (tmp.path() / "only").string() + " 2>&1");
  INFO(c.out << c.err);
  CHECK(c.code == 0);
  write(tmp.path() / "only.cpp", "#include \"vkflow_plugin.h\"\nint main() { return 0; }\n");
  auto cxx = test::run_shell("c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only" + inc +
                             (tmp.path() / "only.cpp").string() + " 2>&1");
  INFO(cxx.out << cxx.err);
  CHECK(cxx.code == 0);
}

TEST_CASE("a plugin built in its own CMake project against only the installed header loads", "[plugins][cpu]") {
  test::TempDir tmp("plugin_sdk");
  const fs::path prefix = tmp.path() / "prefix", src = tmp.path() / "src", bld = tmp.path() / "build";
  fs::create_directories(src);
  auto inst = test::run_shell("cmake --install " + std::string(VKFLOW_BUILD_DIR) + " --prefix " + prefix.string() + " 2>&1");
  INFO(inst.out << inst.err);
  REQUIRE(inst.code == 0);
  REQUIRE(fs::exists(prefix / "include" / "vkflow_plugin.h"));
  write(src / "plugin.c", kPluginSource);
  write(src / "CMakeLists.txt", kProject);
  auto cfg = test::run_shell("cmake -S " + src.string() + " -B " + bld.string() + " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" +
                             prefix.string() + " >/dev/null 2>&1 && cmake --build " + bld.string() + " 2>&1");
  INFO(cfg.out << cfg.err);
  REQUIRE(cfg.code == 0);
  const auto r = plugin::load_plugin(bld / "standalone_euler.so");
  INFO(r.error);
  REQUIRE(r.loaded);
  CHECK(r.samplers == std::vector<std::string>{"standalone_euler"});

  // the install also holds the example plugins, ready to load, and their sources + README as templates
  fs::path inst_plugins, docs;
  for (const auto& e : fs::recursive_directory_iterator(prefix)) {
    if (e.path().filename() == "euler_churn_plugin.so") inst_plugins = e.path().parent_path();
    if (e.path().filename() == "pc_sampler.c") docs = e.path().parent_path();
  }
  REQUIRE(!inst_plugins.empty());
  CHECK(inst_plugins.parent_path().filename() == "vkflow");
  for (const char* f : {"dpmpp_2m_plugin.so", "pc_sampler_plugin.so"}) CHECK(fs::exists(inst_plugins / f));
  CHECK_FALSE(fs::exists(inst_plugins / "test_plugin_ok.so"));  // test plugins are not installed
  REQUIRE(!docs.empty());
  CHECK(fs::exists(docs / "README.md"));
  auto listed = test::run_captured({VKFLOW_BINARY, "plugins", "--plugins-dir", inst_plugins.string()});
  INFO(listed.out << listed.err);
  CHECK(listed.code == 0);
  for (const char* line : {"dpmpp_2m_plugin.so  loaded", "euler_churn_plugin.so  loaded", "pc_sampler_plugin.so  loaded"})
    CHECK(listed.out.find(line) != std::string::npos);
  // an installed example source builds as strict C99 against only the installed header
  auto cc = test::run_shell(std::string(VKFLOW_C_COMPILER) + " -std=c99 -Wall -Wextra -Werror -pedantic -fPIC -shared -I" +
                            (prefix / "include").string() + " " + (docs / "euler_churn.c").string() + " -lm -o " +
                            (tmp.path() / "euler_churn_copy.so").string() + " 2>&1");
  INFO(cc.out << cc.err);
  CHECK(cc.code == 0);
}

TEST_CASE("vkflow plugins lists loaded and failed plugins and exits 0", "[plugins][cpu][cli]") {
  auto r = test::run_captured({VKFLOW_BINARY, "plugins", "--plugin", test::plugin_file("euler_churn_plugin"),
                               "--plugin", test::plugin_file("test_plugin_major"), "--plugin=" + test::plugin_file("test_plugin_old_minor")});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("euler_churn_plugin.so  loaded  abi 1.1  samplers: euler_churn") != std::string::npos);
  CHECK(r.out.find("test_plugin_major.so  failed: built for ABI 2.1") != std::string::npos);
  CHECK(r.out.find("test_plugin_old_minor.so  loaded  abi 1.0  samplers: tp_old_minor") != std::string::npos);
  CHECK(r.err.find("test_plugin_major.so skipped") != std::string::npos);
  // a plugin folder: every library in it
  test::TempDir dir("plugin_dir");
  fs::copy_file(test::plugin_file("dpmpp_2m_plugin"), dir.path() / "dpmpp_2m_plugin.so");
  auto d = test::run_captured({VKFLOW_BINARY, "plugins", "--plugins-dir", dir.path().string()});
  INFO(d.out << d.err);
  CHECK(d.code == 0);
  CHECK(d.out.find("dpmpp_2m_plugin.so  loaded  abi 1.1  samplers: dpmpp_2m_plugin") != std::string::npos);
}

TEST_CASE("plugin samplers and their parameters are in vkflow nodes --json", "[plugins][cpu][cli]") {
  auto r = test::run_captured({VKFLOW_BINARY, "nodes", "--json", "--plugin", test::plugin_file("pc_sampler_plugin"),
                               "--plugin", test::plugin_file("euler_churn_plugin")});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const auto combo = j.at("KSamplerSelect").at("input").at("required").at("sampler_name").at(0);
  auto has = [&](const std::string& n) { return std::find(combo.begin(), combo.end(), n) != combo.end(); };
  CHECK(has("pc_ve"));
  CHECK(has("pc_vp"));
  CHECK(has("euler_churn"));
  CHECK(has("euler"));
  const auto ks = j.at("KSampler").at("input").at("required").at("sampler_name").at(0);
  CHECK(std::find(ks.begin(), ks.end(), "euler_churn") != ks.end());
  const auto pc = j.at("PluginSampler_pc_ve").at("input").at("required");
  CHECK(pc.at("snr").at(0) == "FLOAT");
  CHECK(pc.at("snr").at(1).at("default") == 0.16);
  CHECK(pc.at("corrector_steps").at(0) == "INT");
  CHECK(pc.at("corrector_steps").at(1).at("max") == 10);
  const auto ec = j.at("PluginSampler_euler_churn").at("input").at("required");
  for (const char* p : {"s_churn", "s_tmin", "s_tmax", "s_noise"}) CHECK(ec.contains(p));
  CHECK(j.at("PluginSampler_euler_churn").at("output").at(0) == "SAMPLER");
}
