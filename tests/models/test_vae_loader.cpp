// VAELoader and models::load_vae: a standalone VAE file (keys encoder.*, decoder.*, quant_conv.*,
// post_quant_conv.*, as the public vae-ft-mse-840000-ema-pruned.safetensors has) made from the tiny golden
// checkpoint's first_stage_model.* tensors, checked against the CompVis decode golden, run in a graph next
// to CheckpointLoaderSimple from ComfyUI-style model folders, and fed bad files.
#include <catch2/catch.hpp>

#include <iostream>

#include "engine/graph/executor.h"
#include "engine/graph/services.h"
#include "engine/io/png.h"
#include "engine/io/safetensors_writer.h"
#include "engine/models/checkpoint.h"
#include "engine/vk/recorder.h"
#include "nodes/value_types.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/gpu.h"

using namespace vkf;
using e2e::contains;
using e2e::fs::path;
namespace fs = std::filesystem;

namespace {

const path kTiny = e2e::kTinyDir;

// The tiny checkpoint's VAE as a standalone file: first_stage_model.* with the prefix stripped, bytes
// unchanged; keys listed in `drop` are left out.
void write_standalone_vae(const path& out, const std::vector<std::string>& drop = {}) {
  auto st = io::SafeTensors::open(kTiny / "ckpt.safetensors");
  const std::string prefix = models::kVaePrefix;
  io::SafeTensorsWriter w;
  for (const auto& t : st.tensors()) {
    if (!t.name.starts_with(prefix)) continue;
    std::string name = t.name.substr(prefix.size());
    if (std::find(drop.begin(), drop.end(), name) != drop.end()) continue;
    w.add(name, t.dtype, t.shape, st.bytes(t));
  }
  w.write(out);
}

// <dir>/checkpoints/sd15/tiny.safetensors (+ tiny.json), <dir>/vae/tiny_vae.safetensors (+ tiny_vae.json,
// the golden config: its "vae" section is checked against the shapes, its scale_factor used).
struct ModelFolders : e2e::TempDir {
  ModelFolders() : TempDir("vae_models") {
    fs::create_directories(path() / "checkpoints" / "sd15");
    fs::create_symlink(kTiny / "ckpt.safetensors", path() / "checkpoints/sd15/tiny.safetensors");
    fs::copy_file(kTiny / "config.json", path() / "checkpoints/sd15/tiny.json");
    fs::create_directories(path() / "vae");
    write_standalone_vae(path() / "vae/tiny_vae.safetensors");
    fs::copy_file(kTiny / "config.json", path() / "vae/tiny_vae.json");
    fs::create_directories(path() / "clip_vocab");
    fs::create_symlink(e2e::kClipVocab, path() / "clip_vocab" / e2e::kClipVocab.filename());
  }
};

models::LoadOptions f32() {
  models::LoadOptions lo;
  lo.dtype = DType::F32;
  return lo;
}

// max|out - image| / max|image| of the decode golden through `ck`'s VAE (model level: raw latent z in,
// unclamped image out, as the golden was made).
double decode_golden_error(const models::Checkpoint& ck) {
  auto& ctx = test::gpu();
  auto io = io::SafeTensors::open(kTiny / "vae_decode_io.safetensors");
  const auto& zi = io.at("z");
  Tensor z = from_host(ctx, Shape(zi.shape.begin(), zi.shape.end()), io.to_f32(zi), ck.dtype);
  vk::Recorder rec(ctx);
  Tensor img = ck.vae->decode(rec, z);
  rec.submit();
  const auto& ii = io.at("image");
  REQUIRE(img.shape() == Shape(ii.shape.begin(), ii.shape.end()));
  const auto ref = io.to_f32(ii);
  return double(test::max_abs_diff(to_host(ctx, img), ref)) / double(test::max_abs(ref));
}

// A run of `graph_json` with the real nodes, models from `models`, every output kept.
graph::RunResult run_graph(const std::string& graph_json, const path& models, const path& temp) {
  using namespace graph;
  Graph g = Graph::parse(graph_json);
  RunEnv env;
  env.paths.models_dir = models;  // CLIP vocabulary from <models>/clip_vocab/
  env.paths.output_dir = temp / "out";
  env.paths.temp_dir = temp / "tmp";
  env.paths.input_dir = e2e::kGraphs / "input";
  env.services->set(kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &test::gpu()));
  Executor ex;
  ex.keep_outputs(true);
  return ex.run(g, env);
}

// Checkpoint and VAELoader side by side: the example image encoded by the checkpoint's VAE, decoded by both.
std::string two_vae_graph(const std::string& vae_name) {
  return R"({
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15/tiny.safetensors"}},
    "2": {"class_type": "VAELoader", "inputs": {"vae_name": ")" + vae_name + R"("}},
    "3": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "4": {"class_type": "VAEEncode", "inputs": {"pixels": ["3", 0], "vae": ["1", 2]}},
    "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["2", 0]}},
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
    "7": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "vaeloader"}},
    "8": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "ckpt"}}})";
}

// The message of the error that `fn` throws.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  FAIL("no error thrown");
  return "";
}

}  // namespace

// Golden bound from MODELS.md (see test_model_goldens.cpp): 1e-4 of max|ref| in f32.
TEST_CASE("vae loader: a standalone VAE file decodes the CompVis golden", "[models][vae_loader]") {
  ModelFolders m;
  const path file = m.path() / "vae/tiny_vae.safetensors";
  REQUIRE(io::SafeTensors::open(file).find("decoder.conv_in.weight"));  // really without the prefix
  auto ck = models::load_vae(test::gpu(), file, f32());
  REQUIRE(ck->vae);
  CHECK_FALSE(ck->unet);
  CHECK_FALSE(ck->text);
  CHECK(ck->config.vae.ch == 32);  // detected from shapes, as the golden config says
  CHECK(ck->config.vae.ch_mult == std::vector<int>{1, 2});
  CHECK(ck->config.vae.downsample_factor() == e2e::load_json(kTiny / "config.json").at("vae_downsample_factor").get<int>());
  CHECK(ck->config.scale_factor == Approx(0.18215f));
  const double e = decode_golden_error(*ck);
  std::cout << "  [vae_loader] standalone VAE decode: max|d|/max|ref| = " << e << "\n";
  CHECK(e <= 1e-4);

  SECTION("the VAE of a full checkpoint (first_stage_model.*) loads the same way") {
    auto full = models::load_vae(test::gpu(), kTiny / "ckpt.safetensors", f32());
    CHECK_FALSE(full->unet);
    CHECK(full->weights->has("first_stage_model.decoder.conv_in.weight"));
    CHECK_FALSE(full->weights->has("model.diffusion_model.out.2.weight"));  // only the VAE uploaded
    const double ef = decode_golden_error(*full);
    std::cout << "  [vae_loader] checkpoint VAE decode: max|d|/max|ref| = " << ef << "\n";
    CHECK(ef <= 1e-4);
  }
}

TEST_CASE("vae loader: scale_factor comes from a <stem>.json sidecar, else SD1.x's", "[models][vae_loader]") {
  e2e::TempDir d("vae_sidecar");
  const path file = d / "v.safetensors";
  write_standalone_vae(file);
  CHECK(models::load_vae(test::gpu(), file, f32())->config.scale_factor == Approx(0.18215f));  // no sidecar
  e2e::write_file(d / "v.json", R"({"scale_factor": 0.13025})");
  CHECK(models::load_vae(test::gpu(), file, f32())->config.scale_factor == Approx(0.13025f));
  // A sidecar "vae" section that contradicts the weights is an error naming the sidecar and the field.
  e2e::write_file(d / "v.json", R"({"vae": {"ddconfig": {"ch": 64}}})");
  const auto msg = error_of([&] { models::load_vae(test::gpu(), file, f32()); });
  CHECK(contains(msg, "v.json"));
  CHECK(contains(msg, "vae.ddconfig.ch"));
}

TEST_CASE("vae loader: VAELoader in a graph with checkpoints/ and vae/ model folders", "[models][vae_loader]") {
  ModelFolders m;
  e2e::TempDir t("vae_graph");
  auto r = run_graph(two_vae_graph("tiny_vae.safetensors"), m.path(), t.path());
  INFO(r.error_node << " " << r.error_class << ": " << r.error_message << r.validation.to_string());
  REQUIRE(r.ok());
  const auto& own = r.outputs.at("5").at(0).get<nodes::Image>().pixels;
  const auto& ckv = r.outputs.at("6").at(0).get<nodes::Image>().pixels;
  REQUIRE(own.shape() == ckv.shape());
  // Same weights, same dtype, same ops: the standalone VAE must reproduce the checkpoint's VAE exactly.
  CHECK(test::max_abs_diff(to_host(test::gpu(), own), to_host(test::gpu(), ckv)) == 0.0f);
  CHECK(r.outputs.at("2").at(0).get<nodes::Vae>().ckpt->path == m.path() / "vae/tiny_vae.safetensors");

  SECTION("the same graph through `vkflow run --models-dir` writes both images, equal") {
    e2e::TempDir out("vae_cli");
    const path g = out / "graph.json";
    e2e::write_file(g, two_vae_graph("tiny_vae.safetensors"));
    auto c = e2e::vkflow({"run", g.string(), "--quiet", "--models-dir", m.path().string(), "--output-dir",
                          (out / "o").string(), "--input-dir", (e2e::kGraphs / "input").string()});
    INFO(c.out << c.err);
    REQUIRE(c.code == 0);
    auto a = io::load_image(out / "o/vaeloader_00001_.png");
    auto b = io::load_image(out / "o/ckpt_00001_.png");
    CHECK(a.width == own.dim(2));
    CHECK(a.rgba == b.rgba);
  }
}

TEST_CASE("vae loader: bad files and names are refused with clear messages", "[models][vae_loader]") {
  ModelFolders m;
  e2e::TempDir t("vae_bad");
  auto fails = [&](const std::string& vae_name, const std::vector<std::string>& needles) {
    auto r = run_graph(two_vae_graph(vae_name), m.path(), t.path());
    INFO(r.error_message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error_node == "2");
    CHECK(r.error_class == "VAELoader");
    for (const auto& n : needles) {
      INFO("expected: " << n);
      CHECK(contains(r.error_message, n));
    }
  };
  // Names that are not in <models>/vae are refused by validation, before anything runs.
  auto refused = [&](const std::string& vae_name, const std::vector<std::string>& needles) {
    auto r = run_graph(two_vae_graph(vae_name), m.path(), t.path());
    INFO(r.validation.to_string());
    REQUIRE(r.status == graph::RunStatus::Invalid);
    CHECK(r.executed.empty());
    REQUIRE(r.validation.errors.size() == 1);
    const auto& e = r.validation.errors[0];
    CHECK(e.type == "value_not_in_list");
    CHECK(e.node_id == "2");
    CHECK(e.class_type == "VAELoader");
    CHECK(e.input_name == "vae_name");
    for (const auto& n : needles) {
      INFO("expected: " << n);
      CHECK(contains(e.details, n));
    }
  };
  SECTION("a missing file lists the folder's files") {
    refused("nothere.safetensors", {"'nothere.safetensors' not in", "'tiny_vae.safetensors'", (m.path() / "vae").string()});
  }
  SECTION("'..' names are not in the list") {
    refused("../checkpoints/sd15/tiny.safetensors", {"'../checkpoints/sd15/tiny.safetensors' not in"});
  }
  SECTION("a safetensors file that is not a VAE names the file and a missing tensor") {
    io::SafeTensorsWriter w;
    w.add_zeros("text_model.embeddings.token_embedding.weight", io::StDType::F32, {8, 4});
    w.write(m.path() / "vae/words.safetensors");
    fails("words.safetensors", {"words.safetensors", "not a VAE", "missing tensor 'decoder.conv_in.weight'"});
  }
  SECTION("a VAE file with a tensor missing names it") {
    write_standalone_vae(m.path() / "vae/partial.safetensors", {"decoder.up.1.block.0.conv2.weight"});
    fails("partial.safetensors", {"partial.safetensors", "missing", "decoder.up.1.block.0.conv2.weight"});
  }
  SECTION("a text file named .safetensors") {
    e2e::write_file(m.path() / "vae/notes.safetensors", "not a model\n");
    fails("notes.safetensors", {"notes.safetensors", "not a safetensors file"});
  }
  SECTION("through `vkflow run`: a missing file is exit 2 (validation) naming the node") {
    e2e::TempDir out("vae_cli_bad");
    const path g = out / "graph.json";
    e2e::write_file(g, two_vae_graph("nothere.safetensors"));
    auto c = e2e::vkflow({"run", g.string(), "--quiet", "--models-dir", m.path().string(), "--output-dir",
                          (out / "o").string(), "--input-dir", (e2e::kGraphs / "input").string()});
    INFO(c.err);
    CHECK(c.code == 2);
    CHECK(contains(c.err, "node 2 (VAELoader) input 'vae_name': value_not_in_list"));
    CHECK(contains(c.err, "nothere.safetensors"));
  }
}

TEST_CASE("vae loader: VAELoader is listed with ComfyUI's schema", "[cpu][models][vae_loader]") {
  auto c = e2e::vkflow({"nodes", "--json", "VAELoader"});
  INFO(c.out << c.err);
  REQUIRE(c.code == 0);
  auto j = nlohmann::json::parse(c.out).at("VAELoader");
  CHECK(j.at("category") == "loaders");
  CHECK(j.at("output") == nlohmann::json::array({"VAE"}));
  CHECK(j.at("input").at("required").contains("vae_name"));
}
