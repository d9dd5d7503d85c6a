// Thread rule (vkflow_plugin.h, "Threads"): plugins may be loaded while other threads use the registries
// (the server's queue runs samplers, HTTP threads answer /object_info). Loading is serialized by the
// loader's lock; the sampler and node registries lock their own maps. Here one thread loads four freshly
// built plugins while three threads list and look up samplers and nodes; every reader sees a consistent
// registry (a sampler either absent or complete with its node), and at the end everything is there.
// (A data race that happens not to crash is only proven absent by a ThreadSanitizer build; this test
// catches the crashes and inconsistencies one causes under ASan.)
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "engine/graph/registry.h"
#include "engine/plugin/plugin_host.h"
#include "engine/sampling/sampler.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {
// A sampler with one parameter, so the host also adds a node PluginSampler_<TP_NAME>.
const char* kSource = R"(#include "vkflow_plugin.h"
static vkflow_result_t sample(const vkflow_sample_call_t* c, vkflow_tensor_t* r) { *r = c->x; return VKFLOW_OK; }
static vkflow_result_t init(const vkflow_host_t* h) {
  const vkflow_samplers_t* reg = (const vkflow_samplers_t*)h->get_capability(h, VKFLOW_CAP_SAMPLERS);
  vkflow_param_desc_t p = {sizeof(vkflow_param_desc_t), "strength", 0, VKFLOW_PARAM_FLOAT, 0.5, 0.0, 1.0, 0.01};
  vkflow_sampler_desc_t d = {0};
  if (!reg) return VKFLOW_UNSUPPORTED;
  d.struct_size = sizeof d;
  d.name = TP_NAME;
  d.params = &p;
  d.param_count = 1;
  d.sample = sample;
  return reg->register_sampler(h, &d);
}
VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t), "org.vkflow.test.threads." TP_NAME, "threads", "1", init, 0};
)";
}  // namespace

TEST_CASE("plugins load while other threads read the sampler and node registries", "[plugins][cpu]") {
  test::TempDir tmp("plugin_threads");
  {
    std::ofstream f(tmp.path() / "p.c");
    f << kSource;
  }
  const std::vector<std::string> names = {"thr_a", "thr_b", "thr_c", "thr_d"};
  std::vector<fs::path> libs;
  for (const auto& n : names) {
    const fs::path so = tmp.path() / (n + ".so");
    auto c = test::run_shell(std::string(VKFLOW_C_COMPILER) + " -std=c99 -shared -fPIC -fvisibility=hidden -I" +
                             VKFLOW_PLUGIN_INCLUDE_DIR + " '-DTP_NAME=\"" + n + "\"' " + (tmp.path() / "p.c").string() +
                             " -o " + so.string() + " 2>&1");
    INFO(c.out << c.err);
    REQUIRE(c.code == 0);
    libs.push_back(so);
  }
  std::atomic<bool> done{false};
  std::atomic<int> inconsistent{0}, reads{0};
  auto reader = [&](int which) {
    while (!done.load()) {
      for (const auto& n : names) {
        const bool sampler = sampling::is_sampler_name(n);
        const auto* node = graph::Registry::instance().find("PluginSampler_" + n);
        // the node is added after the sampler (by the registry's listener): never a node without it
        if (node && !sampling::is_sampler_name(n)) ++inconsistent;
        if (sampler && !sampling::sampler_registry().find(n)) ++inconsistent;
        if (node && node->class_type() != "PluginSampler_" + n) ++inconsistent;
      }
      if (which == 0) (void)graph::Registry::instance().object_info();
      if (which == 1) (void)sampling::sampler_registry().names_list();
      if (which == 2) (void)graph::Registry::instance().names();
      ++reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader, i);
  std::vector<plugin::PluginInfo> got;
  std::thread loader([&] {
    for (const auto& l : libs) got.push_back(plugin::load_plugin(l));
  });
  loader.join();
  done = true;
  for (auto& t : readers) t.join();
  CHECK(inconsistent.load() == 0);
  CHECK(reads.load() > 0);
  REQUIRE(got.size() == names.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(got[i].path << ": " << got[i].error);
    CHECK(got[i].loaded);
    CHECK(sampling::is_sampler_name(names[i]));
    CHECK(graph::Registry::instance().find("PluginSampler_" + names[i]) != nullptr);
  }
}
