// The loader nodes prepare at load: a graph holding only CheckpointLoaderSimple and VAELoader (their outputs
// shown by PreviewAny, nothing evaluated) leaves every pipeline of the checkpoint's default job built and, on
// lavapipe, compiled by a warm-up dispatch; under VKFLOW_PREPARE=0 (the test runner's setting) it builds
// none. Each case runs on its own fresh Context, so no other test's pipelines are counted.
#include <catch2/catch.hpp>

#include "engine/graph/executor.h"
#include "engine/graph/services.h"
#include "engine/io/safetensors.h"
#include "engine/models/sd_config.h"
#include "engine/models/prepare.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"
#include "nodes/value_types.h"
#include "tests/e2e/e2e_util.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {

struct PrepareOverride {
  explicit PrepareOverride(bool on) { models::set_prepare_override(on); }
  ~PrepareOverride() { models::set_prepare_override(std::nullopt); }
};

graph::RunResult run_loaders(vk::Context& ctx, const fs::path& models, const fs::path& temp) {
  using namespace graph;
  Graph g = Graph::parse(R"({
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
    "2": {"class_type": "VAELoader", "inputs": {"vae_name": "tiny.safetensors"}},
    "3": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    "4": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}}})");
  RunEnv env;
  env.paths.models_dir = models;
  env.paths.output_dir = temp / "out";
  env.paths.temp_dir = temp / "tmp";
  env.paths.input_dir = e2e::kGraphs / "input";
  env.services->set(kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &ctx));
  Executor ex;
  ex.keep_outputs(true);
  return ex.run(g, env);
}

// e2e::ModelsDir plus vae/tiny.safetensors (the same checkpoint: VAELoader takes a full one's VAE).
struct Folders : e2e::ModelsDir {
  Folders() {
    fs::create_directories(path() / "vae");
    fs::create_symlink(e2e::kTinyDir / "ckpt.safetensors", path() / "vae" / "tiny.safetensors");
  }
};

}  // namespace

TEST_CASE("prepare: the loader nodes prepare the checkpoint's pipelines at load", "[models][prepare]") {
  Folders m;
  e2e::TempDir t("prepare_loaders");
  vk::Context ctx;
  PrepareOverride on(true);
  REQUIRE(ctx.pipelines().size() == 0);
  auto r = run_loaders(ctx, m.path(), t.path());
  INFO(r.error_node << " " << r.error_class << ": " << r.error_message << r.validation.to_string());
  REQUIRE(r.ok());
  const auto& model = r.outputs.at("1").at(0).get<nodes::Model>();
  const auto& vae = r.outputs.at("2").at(0).get<nodes::Vae>();
  REQUIRE(model.ckpt->unet);
  REQUIRE(vae.ckpt->vae);
  CHECK(ctx.pipelines().size() > 0);
  // Every pipeline of the default job is built already and, on lavapipe, was dispatched once: preparing
  // again after the loaders ran finds nothing to do.
  const size_t n = ctx.pipelines().size();
  for (const auto* ck : {model.ckpt.get(), vae.ckpt.get()}) {
    const auto again = models::prepare_checkpoint(ctx, *ck);
    CHECK(again.built == 0);
    CHECK(again.warmed == 0);
  }
  CHECK(ctx.pipelines().size() == n);
  CHECK(ctx.take_validation_messages().empty());
}

TEST_CASE("prepare: under VKFLOW_PREPARE=0 the loaders build no pipeline", "[models][prepare]") {
  Folders m;
  e2e::TempDir t("prepare_loaders_off");
  vk::Context ctx;
  PrepareOverride off(false);
  auto r = run_loaders(ctx, m.path(), t.path());
  INFO(r.error_node << " " << r.error_class << ": " << r.error_message << r.validation.to_string());
  REQUIRE(r.ok());
  CHECK(ctx.pipelines().size() == 0);  // loading uploads weights only; pipelines come at first dispatch
  CHECK(ctx.take_validation_messages().empty());
}

TEST_CASE("prepare: a sidecar's image_size sets the size preparation plans, other forms are ignored",
          "[models][prepare][cpu]") {
  auto st = io::SafeTensors::open(e2e::kTinyDir / "ckpt.safetensors");
  auto cfg = e2e::load_json(e2e::kTinyDir / "config.json");
  const int f = models::detect_config(st, cfg).vae.downsample_factor();
  auto with = [&](nlohmann::json v) {
    auto c = cfg;
    c["image_size"] = std::move(v);
    const auto m = models::detect_config(st, c);
    return std::pair{m.image_height, m.image_width};
  };
  CHECK(models::detect_config(st, cfg).image_height == 0);  // not given: 512x512 is planned
  CHECK(with({8 * f, 4 * f}) == std::pair{8 * f, 4 * f});  // [h, w]
  CHECK(with(16 * f) == std::pair{16 * f, 16 * f});
  CHECK(with({8 * f + 1, 8 * f}) == std::pair{0, 0});  // not a multiple of the VAE factor
  CHECK(with("512") == std::pair{0, 0});
  CHECK(with({-8 * f, 8 * f}) == std::pair{0, 0});
  CHECK(with({8 * f, 8 * f, 3}) == std::pair{0, 0});
  // The shipped fashion model says what it was made for (64x64).
  const fs::path fashion = fs::path(VKFLOW_SOURCE_DIR) / "models/checkpoints/vkflow-fashion.safetensors";
  const auto fm = models::detect_config(io::SafeTensors::open(fashion), models::find_sidecar_config(fashion, {}));
  CHECK(fm.image_height == 64);
  CHECK(fm.image_width == 64);
}
