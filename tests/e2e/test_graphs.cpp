// The example graphs (graphs/*.json) and ComfyUI's own workflows run end to end through the built
// `vkflow run`, on the tiny golden checkpoint at 64x64 with a few steps; plus the executor's caching on
// the real txt2img nodes, in-process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/graph/executor.h"
#include "engine/graph/services.h"
#include "engine/io/png.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/gpu.h"

using namespace vkf::e2e;

namespace {

// The common arguments of a model run: the tiny checkpoint under the name tiny.safetensors.
std::vector<std::string> model_args(const std::string& graph, const ModelsDir& m, const TempDir& out,
                                    std::vector<std::string> sets) {
  std::vector<std::string> a = {"run", (kGraphs / graph).string(), "--quiet", "--models-dir", m.path().string(),
                                "--output-dir", out.path().string(), "--input-dir", (kGraphs / "input").string()};
  for (auto& s : sets) a.insert(a.end(), {"--set", s});
  return a;
}

// The saved paths `vkflow run` prints on stdout (one per line; "#id: text" lines are previews).
std::vector<fs::path> printed_paths(const std::string& out) {
  std::vector<fs::path> v;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty() && line[0] != '#') v.emplace_back(line);
  return v;
}

// Decoded 8-bit values (0..255) of a PNG's RGB channels.
std::vector<int> rgb8(const vkf::io::DecodedImage& img) {
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

// Pixel side of a txt2img image made from an EmptyLatentImage side `px`: EmptyLatentImage divides by 8 as
// ComfyUI does for every model, the tiny VAE then upsamples by its own factor (2, from its config).
int64_t txt2img_side(int64_t px) {
  return px / 8 * load_json(kTinyDir / "config.json").at("vae_downsample_factor").get<int64_t>();
}

#define REQUIRE_RAN(r)      \
  do {                      \
    INFO((r).out << (r).err); \
    REQUIRE(!(r).crashed()); \
    REQUIRE((r).code == 0); \
  } while (0)

}  // namespace

TEST_CASE("e2e: txt2img is deterministic per seed, embeds the graph, numbers files without overwriting", "[e2e]") {
  ModelsDir m;
  TempDir out("txt2img");
  const std::vector<std::string> sets = {"4.ckpt_name=tiny.safetensors", "3.steps=4"};
  auto run_seed = [&](int seed) {
    auto s = sets;
    s.push_back("3.seed=" + std::to_string(seed));
    auto r = vkflow(model_args("txt2img.json", m, out, s));
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 1);
    return paths[0];
  };
  const fs::path a = run_seed(42);
  CHECK(a == out / "vkflow_00001_.png");
  const std::string a_bytes = slurp(a);
  const fs::path b = run_seed(42);
  CHECK(b == out / "vkflow_00002_.png");
  const fs::path c = run_seed(43);
  CHECK(c == out / "vkflow_00003_.png");
  CHECK(files_under(out.path()).size() == 3);

  // Same seed: the whole file is identical (pixels and the embedded graph); the first file is untouched.
  CHECK(slurp(a) == a_bytes);
  CHECK(slurp(b) == a_bytes);

  auto ia = vkf::io::load_image(a), ic = vkf::io::load_image(c);
  CHECK(ia.width == txt2img_side(64));
  CHECK(ia.height == txt2img_side(64));
  CHECK(ia.channels == 3);
  // Another seed gives another image: other initial noise through 4 steps changes pixels by far more than
  // one level (a same-looking result would mean the seed is ignored).
  CHECK(max_diff(rgb8(ia), rgb8(ic)) > 8);

  // The "prompt" tEXt chunk holds the graph as run: the file with the --set overrides applied.
  auto expected = load_json(kGraphs / "txt2img.json");
  expected["4"]["inputs"]["ckpt_name"] = "tiny.safetensors";
  expected["3"]["inputs"]["steps"] = 4;
  expected["3"]["inputs"]["seed"] = 42;
  const std::string text = png_text(a_bytes, "prompt");
  REQUIRE(!text.empty());
  CHECK(nlohmann::json::parse(text) == expected);
}

TEST_CASE("e2e: img2img and custom_sampling graphs run and write PNGs", "[e2e]") {
  ModelsDir m;
  SECTION("img2img: LoadImage -> ImageScale -> VAEEncode -> KSampler (denoise 0.6) -> SaveImage") {
    TempDir out("img2img");
    auto r = vkflow(model_args("img2img.json", m, out, {"4.ckpt_name=tiny.safetensors", "3.steps=4"}));
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == out / "vkflow_img2img_00001_.png");
    // VAEEncode /2 then VAEDecode x2 (the tiny VAE's factor): the input's 64x64 comes back
    auto img = vkf::io::load_image(paths[0]);
    CHECK(img.width == 64);
    CHECK(img.height == 64);
  }
  SECTION("custom_sampling: SamplerCustomAdvanced + CFGGuider + KSamplerSelect + BasicScheduler + RandomNoise") {
    // batch 2 against batch-1 conditionings: the conditioning broadcasts, one PNG per latent
    TempDir out("custom");
    auto r = vkflow(model_args("custom_sampling.json", m, out,
                               {"4.ckpt_name=tiny.safetensors", "17.steps=4", "5.batch_size=2"}));
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 2);
    CHECK(paths[0] == out / "vkflow_custom_00001_.png");
    CHECK(paths[1] == out / "vkflow_custom_00002_.png");
    for (auto& p : paths) {
      auto img = vkf::io::load_image(p);
      CHECK(img.width == txt2img_side(64));
      CHECK(img.height == txt2img_side(64));
    }
    // different noise per batch element (one randn over the whole latent)
    CHECK(max_diff(rgb8(vkf::io::load_image(paths[0])), rgb8(vkf::io::load_image(paths[1]))) > 0);
  }
}

TEST_CASE("e2e: image_ops runs without any model, sizes, ImageInvert twice is the identity", "[e2e]") {
  TempDir empty_models("nomodels"), out("image_ops"), temp("image_ops_temp");
  const auto input = vkf::io::load_image(kGraphs / "input" / "example.png");
  REQUIRE(input.width == 64);
  SECTION("image_ops.json: bicubic 96x80, inverted to SaveImage, the scaled image to PreviewImage") {
    auto r = vkflow({"run", (kGraphs / "image_ops.json").string(), "--quiet", "--models-dir",
                     empty_models.path().string(), "--output-dir", out.path().string(), "--input-dir",
                     (kGraphs / "input").string(), "--temp-dir", temp.path().string()});
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 2);
    const fs::path saved = out / "vkflow_image_ops_00001_.png";
    REQUIRE(std::count(paths.begin(), paths.end(), saved) == 1);
    const fs::path preview = paths[0] == saved ? paths[1] : paths[0];
    CHECK(preview.filename().string().rfind("ComfyUI_temp_", 0) == 0);
    CHECK(preview.parent_path() == temp.path());  // --temp-dir
    auto s = vkf::io::load_image(saved), p = vkf::io::load_image(preview);
    CHECK(s.width == 96);
    CHECK(s.height == 80);
    CHECK(p.width == 96);
    CHECK(p.height == 80);
    // saved = invert(scaled), preview = scaled: per channel 255*(1-x) and 255*x are each truncated to
    // 8 bits, so the two levels sum to 254 or 255.
    auto sv = rgb8(s), pv = rgb8(p);
    REQUIRE(sv.size() == pv.size());
    int bad = 0;
    for (size_t i = 0; i < sv.size(); ++i) bad += (sv[i] + pv[i] < 254 || sv[i] + pv[i] > 255);
    CHECK(bad == 0);
  }
  SECTION("LoadImage -> ImageInvert -> ImageInvert -> SaveImage reproduces the input") {
    const fs::path g = out / "invert2.json";
    write_file(g, R"({
      "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
      "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
      "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
      "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "inv2"}}})");
    auto r = vkflow({"run", g.string(), "--quiet", "--output-dir", (out / "o").string(), "--input-dir",
                     (kGraphs / "input").string()});
    REQUIRE_RAN(r);
    auto img = vkf::io::load_image(out / "o" / "inv2_00001_.png");
    REQUIRE(img.width == input.width);
    REQUIRE(img.height == input.height);
    // 1 - (1 - x) in f32 can land just below x, and saving truncates: one level at most.
    CHECK(max_diff(rgb8(img), rgb8(input)) <= 1);
  }
}

TEST_CASE("e2e: ComfyUI's shared workflows run with only checkpoint names and sizes changed", "[e2e]") {
  ModelsDir m;
  const fs::path wf = kShared / "comfy_workflows";
  SECTION("basic_api_example.json") {
    TempDir out("basic");
    auto r = vkflow({"run", (wf / "basic_api_example.json").string(), "--quiet", "--models-dir", m.path().string(),
                     "--output-dir", out.path().string(), "--set", "4.ckpt_name=tiny.safetensors", "--set",
                     "5.width=64", "--set", "5.height=64", "--set", "3.steps=4"});
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == out / "ComfyUI_00001_.png");
    auto img = vkf::io::load_image(paths[0]);
    CHECK(img.width == txt2img_side(64));
    CHECK(img.height == txt2img_side(64));
  }
  SECTION("default_graph_sdxl_refiner.json: base + refiner, both the tiny checkpoint") {
    TempDir out("refiner");
    const std::vector<std::string> sets = {"4.ckpt_name=tiny.safetensors", "16.ckpt_name=tiny.safetensors"};
    std::vector<std::string> val = {"validate", (wf / "default_graph_sdxl_refiner.json").string(), "--models-dir",
                                    m.path().string()};  // checkpoint names are checked against the folder
    for (auto& s : sets) val.insert(val.end(), {"--set", s});
    auto v = vkflow(val);
    INFO(v.out << v.err);
    CHECK(v.code == 0);
    // KSamplerAdvanced pair: 6 steps, base does 0..4 with leftover noise, refiner 4..end
    std::vector<std::string> run = {"run", (wf / "default_graph_sdxl_refiner.json").string(), "--quiet",
                                    "--models-dir", m.path().string(), "--output-dir", out.path().string()};
    for (auto s : sets) run.insert(run.end(), {"--set", s});
    for (const char* s : {"5.width=64", "5.height=64", "10.steps=6", "14.steps=6", "10.end_at_step=4", "14.start_at_step=4"})
      run.insert(run.end(), {"--set", s});
    auto r = vkflow(run);
    REQUIRE_RAN(r);
    auto paths = printed_paths(r.out);
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == out / "tests" / "ref_ComfyUI_00001_.png");  // the prefix's folder is created
    CHECK(vkf::io::load_image(paths[0]).width == txt2img_side(64));
  }
}

TEST_CASE("e2e: a new seed re-runs only the sampler and what follows it (executor, real nodes)", "[e2e]") {
  using namespace vkf::graph;
  ModelsDir m;
  TempDir out("exec");
  Graph g = Graph::load(kGraphs / "txt2img.json");
  g.set_input("4", "ckpt_name", "tiny.safetensors");
  g.set_input("3", "steps", 4);
  RunEnv env;
  env.paths.models_dir = m.path();  // CLIP vocabulary from <models>/clip_vocab/
  env.paths.output_dir = out.path();
  // the test process's context, not owned by the run
  env.services->set(kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &vkf::test::gpu()));
  Executor ex;
  RunResult first = ex.run(g, env);
  INFO(first.error_node << " " << first.error_message << first.validation.to_string());
  REQUIRE(first.ok());
  CHECK(first.executed.size() == 7);
  CHECK(first.cached.empty());

  g.set_input("3", "seed", 7);
  RunResult second = ex.run(g, env);
  INFO(second.error_node << " " << second.error_message);
  REQUIRE(second.ok());
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  // 4 CheckpointLoaderSimple, 5 EmptyLatentImage, 6/7 CLIPTextEncode: inputs unchanged -> cached;
  // 3 KSampler (seed), 8 VAEDecode, 9 SaveImage: downstream of the change -> re-run, in that order.
  CHECK(sorted(second.cached) == std::vector<std::string>{"4", "5", "6", "7"});
  CHECK(second.executed == std::vector<std::string>{"3", "8", "9"});
  CHECK(files_under(out.path()).size() == 2);
}
