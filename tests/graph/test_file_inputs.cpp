// File-list inputs (CheckpointLoaderSimple.ckpt_name, VAELoader.vae_name, LoadImage.image) are COMBOs of
// the files under the run's folders, as in ComfyUI: object_info lists them, validation refuses other names
// with value_not_in_list before anything runs; an existing absolute path is accepted (vkflow extension).
// Everything here is decided before Vulkan starts: [cpu]. The files are empty — only names matter here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/graph/validate.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace vkf::graph;
using vkf::test::TempDir;

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// models/checkpoints: a.safetensors, sub/b.safetensors and files that are not listed (other extensions,
// the .json sidecar); models/vae: v.safetensors; input: x.png, sub/y.JPG and files LoadImage cannot decode.
struct Folders {
  TempDir root{"file_inputs"};
  Paths paths;
  Folders() {
    paths.models_dir = root / "models";
    paths.input_dir = root / "input";
    paths.output_dir = root / "out";
    for (auto* f : {"checkpoints/a.safetensors", "checkpoints/a.json", "checkpoints/sub/b.safetensors",
                    "checkpoints/old.ckpt", "checkpoints/notes.txt", "vae/v.safetensors"})
      touch(paths.models_dir / f);
    for (auto* f : {"x.png", "sub/y.JPG", "notes.txt", "z.webp"}) touch(paths.input_dir / f);
    touch(root / "elsewhere" / "c.safetensors");
    touch(root / "elsewhere" / "pic.png");
  }
};

const nlohmann::json kCkpts = nlohmann::json::array({"a.safetensors", "sub/b.safetensors"});
const nlohmann::json kImages = nlohmann::json::array({"sub/y.JPG", "x.png"});

Graph ckpt_graph(const std::string& name) {
  nlohmann::json j = {{"1", {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", name}}}}},
                      {"2", {{"class_type", "PreviewAny"}, {"inputs", {{"source", {"1", 0}}}}}}};
  return Graph::parse(j.dump());
}

Graph image_graph(const std::string& name) {
  nlohmann::json j = {{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", name}}}}},
                      {"2", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"1", 0}}}}}}};
  return Graph::parse(j.dump());
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The single expected error: value_not_in_list on node 1's `input`, with every needle in its details.
void expect_not_in_list(const ValidationResult& r, const std::string& cls, const std::string& input,
                        const std::vector<std::string>& needles) {
  INFO(r.to_string());
  REQUIRE(r.errors.size() == 1);
  const auto& e = r.errors[0];
  CHECK(e.type == "value_not_in_list");
  CHECK(e.message == "Value not in list");
  CHECK(e.node_id == "1");
  CHECK(e.class_type == cls);
  CHECK(e.input_name == input);
  for (auto& n : needles) {
    INFO("expected in details: " << n);
    CHECK(contains(e.details, n));
  }
}

vkf::test::CliResult vkflow(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {VKFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return vkf::test::run_captured(argv);
}

}  // namespace

TEST_CASE("file inputs: object_info lists the files under the paths in effect", "[cpu][graph][file_inputs]") {
  Folders f;
  auto info = object_info(f.paths);
  auto& ck = info.at("CheckpointLoaderSimple").at("input").at("required").at("ckpt_name");
  CHECK(ck[0] == kCkpts);  // only .safetensors, recursive, '/' separators, sorted
  CHECK(ck[1].at("tooltip").get<std::string>().find("checkpoints") != std::string::npos);
  CHECK(info["VAELoader"]["input"]["required"]["vae_name"][0] == nlohmann::json::array({"v.safetensors"}));
  CHECK(info["LoadImage"]["input"]["required"]["image"][0] == kImages);  // png/jpg, any case; not .txt/.webp

  SECTION("a missing folder lists nothing") {
    Paths none = f.paths;
    none.models_dir = f.root / "nothing";
    none.input_dir = f.root / "nothing";
    auto e = object_info(none);
    CHECK(e["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == nlohmann::json::array());
    CHECK(e["LoadImage"]["input"]["required"]["image"][0] == nlohmann::json::array());
  }
  SECTION("vkflow nodes --models-dir / --input-dir, JSON and text") {
    auto c = vkflow({"nodes", "--json", "--models-dir", f.paths.models_dir.string(), "--input-dir=" + f.paths.input_dir.string(),
                     "CheckpointLoaderSimple", "LoadImage"});
    INFO(c.err);
    REQUIRE(c.code == 0);
    auto j = nlohmann::json::parse(c.out);
    CHECK(j.size() == 2);
    CHECK(j["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == kCkpts);
    CHECK(j["LoadImage"]["input"]["required"]["image"][0] == kImages);
    auto t = vkflow({"nodes", "--models-dir", f.paths.models_dir.string(), "CheckpointLoaderSimple"});
    CHECK(t.code == 0);
    CHECK(contains(t.out, "ckpt_name:COMBO(2 files in " + (f.paths.models_dir / "checkpoints").string() + ")"));
    CHECK(vkflow({"nodes", "--models-dir"}).code == 2);  // the option needs a value
  }
}

TEST_CASE("file inputs: validation of checkpoint names", "[cpu][graph][file_inputs]") {
  Folders f;
  SECTION("listed relative names pass") {
    for (auto* n : {"a.safetensors", "sub/b.safetensors"}) {
      auto r = validate(ckpt_graph(n), f.paths);
      INFO(n << ": " << r.to_string());
      CHECK(r.ok());
    }
  }
  SECTION("a missing name is value_not_in_list naming node, class, input and the options") {
    expect_not_in_list(validate(ckpt_graph("missing.safetensors"), f.paths), "CheckpointLoaderSimple", "ckpt_name",
                       {"'missing.safetensors' not in ['a.safetensors', 'sub/b.safetensors']",
                        (f.paths.models_dir / "checkpoints").string()});
  }
  SECTION("files that exist but are not listed: other extensions, '..' escapes, folders") {
    for (auto* n : {"old.ckpt", "a.json", "../vae/v.safetensors", "sub"})
      expect_not_in_list(validate(ckpt_graph(n), f.paths), "CheckpointLoaderSimple", "ckpt_name",
                         {std::string("'") + n + "' not in"});
  }
  SECTION("an existing absolute path passes; a missing one does not") {
    CHECK(validate(ckpt_graph((f.root / "elsewhere" / "c.safetensors").string()), f.paths).ok());
    const std::string gone = (f.root / "elsewhere" / "gone.safetensors").string();
    expect_not_in_list(validate(ckpt_graph(gone), f.paths), "CheckpointLoaderSimple", "ckpt_name",
                       {gone, "does not exist"});
  }
  SECTION("a missing models folder says so and names the option") {
    Paths none = f.paths;
    none.models_dir = f.root / "nothing";
    expect_not_in_list(validate(ckpt_graph("a.safetensors"), none), "CheckpointLoaderSimple", "ckpt_name",
                       {"not in []", "does not exist", "--models-dir"});
  }
  SECTION("VAELoader lists <models>/vae") {
    nlohmann::json j = {{"1", {{"class_type", "VAELoader"}, {"inputs", {{"vae_name", "a.safetensors"}}}}},
                        {"2", {{"class_type", "PreviewAny"}, {"inputs", {{"source", {"1", 0}}}}}}};
    expect_not_in_list(validate(Graph::parse(j.dump()), f.paths), "VAELoader", "vae_name", {"['v.safetensors']"});
    j["1"]["inputs"]["vae_name"] = "v.safetensors";
    CHECK(validate(Graph::parse(j.dump()), f.paths).ok());
  }
}

TEST_CASE("file inputs: validation of LoadImage names against the input folder", "[cpu][graph][file_inputs]") {
  Folders f;
  for (auto* n : {"x.png", "sub/y.JPG"}) {
    auto r = validate(image_graph(n), f.paths);
    INFO(n << ": " << r.to_string());
    CHECK(r.ok());
  }
  expect_not_in_list(validate(image_graph("nothere.png"), f.paths), "LoadImage", "image",
                     {"'nothere.png' not in ['sub/y.JPG', 'x.png']", f.paths.input_dir.string()});
  for (auto* n : {"z.webp", "notes.txt"})
    expect_not_in_list(validate(image_graph(n), f.paths), "LoadImage", "image", {std::string("'") + n + "' not in"});
  CHECK(validate(image_graph((f.root / "elsewhere" / "pic.png").string()), f.paths).ok());
  expect_not_in_list(validate(image_graph((f.root / "gone.png").string()), f.paths), "LoadImage", "image",
                     {"gone.png", "does not exist"});
  Paths none = f.paths;
  none.input_dir = f.root / "nothing";
  expect_not_in_list(validate(image_graph("x.png"), none), "LoadImage", "image", {"does not exist", "--input-dir"});
}

TEST_CASE("file inputs: vkflow validate / run refuse a missing file with exit 2 before running",
          "[cpu][graph][file_inputs]") {
  Folders f;
  const fs::path g = f.root / "g.json";
  std::ofstream(g) << ckpt_graph("a.safetensors").prompt().dump();
  const std::string md = f.paths.models_dir.string();
  auto ok = vkflow({"validate", g.string(), "--models-dir", md});
  INFO(ok.out << ok.err);
  CHECK(ok.code == 0);

  auto bad = vkflow({"validate", g.string(), "--models-dir", md, "--set", "1.ckpt_name=missing.safetensors", "--json"});
  INFO(bad.out << bad.err);
  CHECK(bad.code == 2);
  auto j = nlohmann::json::parse(bad.out);
  auto& e = j["node_errors"]["1"];
  CHECK(e["class_type"] == "CheckpointLoaderSimple");
  CHECK(e["errors"][0]["type"] == "value_not_in_list");
  CHECK(e["errors"][0]["extra_info"]["input_name"] == "ckpt_name");
  CHECK(contains(e["errors"][0]["details"].get<std::string>(), "'sub/b.safetensors'"));

  // Default folders (./models, ./input) are not ours: the same graph without --models-dir is refused.
  CHECK(vkflow({"validate", g.string(), "--models-dir", (f.root / "nothing").string()}).code == 2);

  auto run = vkflow({"run", g.string(), "--quiet", "--models-dir", md, "--output-dir", f.paths.output_dir.string(),
                     "--set", "1.ckpt_name=missing.safetensors"});
  INFO(run.err);
  CHECK(run.code == 2);
  CHECK(contains(run.err, "node 1 (CheckpointLoaderSimple) input 'ckpt_name': value_not_in_list"));
  CHECK(contains(run.err, "'missing.safetensors' not in ['a.safetensors', 'sub/b.safetensors']"));

  const fs::path ig = f.root / "img.json";
  std::ofstream(ig) << image_graph("sub/y.JPG").prompt().dump();
  CHECK(vkflow({"validate", ig.string(), "--input-dir", f.paths.input_dir.string()}).code == 0);
  auto bi = vkflow({"validate", ig.string(), "--input-dir", f.paths.input_dir.string(), "--set", "1.image=q.png"});
  CHECK(bi.code == 2);
  CHECK(contains(bi.out, "node 1 (LoadImage) input 'image': value_not_in_list"));
}

TEST_CASE("file inputs: the graphs in graphs/ validate against their file lists", "[cpu][graph][file_inputs]") {
  // The shipped graphs name the bundled vkflow-fashion.safetensors, example.png (in graphs/input) and the
  // official SDXL/SD2 checkpoint file names a user downloads into models/checkpoints.
  TempDir models("file_inputs_models");
  for (const char* name : {"vkflow-fashion.safetensors", "sd_xl_base_1.0.safetensors", "sd_xl_refiner_1.0.safetensors",
                           "v2-1_768-ema-pruned.safetensors"})
    touch(models / "checkpoints" / name);
  const fs::path graphs = fs::path(VKFLOW_SOURCE_DIR) / "graphs";
  int n = 0;
  for (auto& e : fs::directory_iterator(graphs)) {
    if (e.path().extension() != ".json") continue;
    ++n;
    auto r = vkflow({"validate", e.path().string(), "--models-dir", models.path().string(), "--input-dir",
                     (graphs / "input").string(), "--plugins-dir", std::string(VKFLOW_PLUGIN_DIR) + "/examples"});
    INFO(e.path() << "\n" << r.out << r.err);
    CHECK(r.code == 0);
  }
  CHECK(n >= 4);
}
