// The SD2 / SDXL goldens through the graph nodes, in-process (CheckpointLoaderSimple -> CLIPTextEncode /
// CLIPTextEncodeSDXL / CLIPTextEncodeSDXLRefiner / CLIPSetLastLayer / ConditioningZeroOut): the context and
// pooled output the nodes put in CONDITIONING, and the UNet vector the guider builds from it
// (models::sdxl_adm), against the reference conditioner's crossattn / vector / uc_vector.
// Threshold: MODELS.md's fp32 bound, 1e-4 of max|ref| (the same as the `vkflow eval` tests).
#include <catch2/catch.hpp>

#include <iostream>

#include "engine/graph/executor.h"
#include "engine/graph/services.h"
#include "engine/io/safetensors.h"
#include "engine/models/sdxl_conditioner.h"
#include "nodes/value_types.h"
#include "tests/models/golden_models.h"
#include "tests/models/model_cli.h"
#include "tests/support/gpu.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = test::kGoldenDir;
using test::GoldenModels;

// Runs `graph` (API JSON; its output node a PreviewAny) and returns node `id`'s first output.
graph::Value run_node(const GoldenModels& m, const nlohmann::json& graph, const std::string& id) {
  graph::RunEnv env;
  env.paths.models_dir = m.path();
  env.services->set(graph::kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &test::gpu()));
  graph::Executor ex;
  ex.keep_outputs(true);
  auto r = ex.run(graph::Graph::from_json(graph), env);
  INFO(r.error_node << " " << r.error_message << r.validation.to_string());
  REQUIRE(r.ok());
  return r.outputs.at(id).at(0);
}

nlohmann::json loader(const std::string& ckpt) {
  return {{"class_type", "CheckpointLoaderSimple"}, {"inputs", {{"ckpt_name", ckpt + ".safetensors"}}}};
}
nlohmann::json sink(const std::string& from) {
  return {{"class_type", "PreviewAny"}, {"inputs", {{"source", {from, 0}}}}};
}

struct Ref {
  io::SafeTensors st;
  std::vector<float> row(const std::string& key, int64_t b) const {
    const auto& info = st.at(key);
    auto all = st.to_f32(info);
    const size_t n = all.size() / size_t(info.shape.at(0));
    return std::vector<float>(all.begin() + b * int64_t(n), all.begin() + (b + 1) * int64_t(n));
  }
  // The goldens tokenized their prompts literally ("(high detail:1.1)" as text). ComfyUI's CLIPTextEncode
  // reads parentheses as emphasis (engine/text/prompt_weights.h) and takes literal ones escaped, so the
  // node is given each prompt with "\(" and "\)": the same ids as the golden's.
  std::vector<std::string> prompts() const {
    std::vector<std::string> out = nlohmann::json::parse(st.metadata().at("prompts").get<std::string>());
    for (auto& p : out) {
      std::string e;
      for (char c : p) {
        if (c == '(' || c == ')') e += '\\';
        e += c;
      }
      p = e;
    }
    return out;
  }
};

Ref ref(const char* dir, const char* file) { return {io::SafeTensors::open(kGolden / dir / file)}; }

void check_close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
  const double e = test::models_cli::rel_err(got, want);
  std::cout << "  [models] nodes f32 " << what << ": max|d|/max|ref| = " << e << "\n";
  INFO(what << ": max|d|/max|ref| = " << e);
  CHECK(e <= 1e-4);
}

std::vector<float> host(const Tensor& t) { return to_host(test::gpu(), t); }

// The vector the guider gives the UNet for `e`, latents of pixel size w x h.
std::vector<float> vector_of(const std::string& family, const nodes::CondEntry& e, double w, double h, bool negative) {
  vk::Recorder rec(test::gpu());
  Tensor y = models::sdxl_adm(rec, family, *e.pooled, e.size, w, h, negative);
  rec.submit();
  return host(y);
}

// A copy: the Value is usually a temporary.
nodes::CondEntry entry(const graph::Value& v) {
  const auto& c = v.get<nodes::Conditioning>();
  REQUIRE(c.entries.size() == 1);
  return c.entries[0];
}

}  // namespace

TEST_CASE("sdxl nodes: CLIPTextEncodeSDXL, CLIPTextEncode and ZeroOut match the sdxl_tiny_a conditioner", "[sdxl][golden]") {
  GoldenModels m;
  const Ref cond = ref("sdxl_tiny_a", "conditioner_io.safetensors");
  const auto prompts = cond.prompts();
  SECTION("CLIPTextEncodeSDXL with each prompt's sizes; ConditioningZeroOut gives the unconditional vector") {
    for (int64_t b = 0; b < 2; ++b) {
      const auto orig = cond.row("original_size_as_tuple", b), crop = cond.row("crop_coords_top_left", b),
                 target = cond.row("target_size_as_tuple", b);
      nlohmann::json g = {{"1", loader("sdxl_tiny_a")},
                          {"2",
                           {{"class_type", "CLIPTextEncodeSDXL"},
                            {"inputs",
                             {{"clip", {"1", 1}}, {"width", orig[1]}, {"height", orig[0]}, {"crop_w", crop[1]}, {"crop_h", crop[0]},
                              {"target_width", target[1]}, {"target_height", target[0]}, {"text_g", prompts[size_t(b)]},
                              {"text_l", prompts[size_t(b)]}}}}},
                          {"3", {{"class_type", "ConditioningZeroOut"}, {"inputs", {{"conditioning", {"2", 0}}}}}},
                          {"9", sink("3")}};
      graph::Value zero = run_node(m, g, "3");
      g["9"] = sink("2");
      graph::Value enc = run_node(m, g, "2");
      const auto e = entry(enc);
      const std::string tag = "sdxl CLIPTextEncodeSDXL prompt " + std::to_string(b);
      CHECK(e.context.shape() == std::vector<int64_t>{1, 77, 24});
      check_close(tag + " crossattn", host(e.context), cond.row("crossattn", b));
      check_close(tag + " vector", vector_of("sdxl", e, 0, 0, false), cond.row("vector", b));
      const auto z = entry(zero);
      CHECK(test::max_abs(host(z.context)) == 0.0f);
      check_close(tag + " ZeroOut uc_vector", vector_of("sdxl", z, 0, 0, true), cond.row("uc_vector", b));
    }
  }
  SECTION("CLIPTextEncode: the same context, sizes default to the latent's (1024x1024 here = prompt 0's)") {
    nlohmann::json g = {{"1", loader("sdxl_tiny_a")},
                        {"2", {{"class_type", "CLIPTextEncode"}, {"inputs", {{"clip", {"1", 1}}, {"text", prompts[0]}}}}},
                        {"9", sink("2")}};
    const auto e = entry(run_node(m, g, "2"));
    check_close("sdxl CLIPTextEncode crossattn", host(e.context), cond.row("crossattn", 0));
    check_close("sdxl CLIPTextEncode vector (latent 128x128)", vector_of("sdxl", e, 1024, 1024, false), cond.row("vector", 0));
  }
  SECTION("CLIPSetLastLayer -1: both towers' last layer output, no final LayerNorm (ComfyUI's SDXL towers)") {
    nlohmann::json g = {{"1", loader("sdxl_tiny_a")},
                        {"4", {{"class_type", "CLIPSetLastLayer"}, {"inputs", {{"clip", {"1", 1}}, {"stop_at_clip_layer", -1}}}}},
                        {"2", {{"class_type", "CLIPTextEncode"}, {"inputs", {{"clip", {"4", 0}}, {"text", prompts[1]}}}}},
                        {"9", sink("2")}};
    const auto got = host(entry(run_node(m, g, "2")).context);
    const auto l = ref("sdxl_tiny_a", "text_l_io.safetensors").row("hidden_states.3", 1);
    const auto gg = ref("sdxl_tiny_a", "text_g_io.safetensors").row("hidden_states.3", 1);
    std::vector<float> want;
    for (size_t t = 0; t < 77; ++t) {
      want.insert(want.end(), l.begin() + int64_t(t * 8), l.begin() + int64_t(t * 8 + 8));
      want.insert(want.end(), gg.begin() + int64_t(t * 16), gg.begin() + int64_t(t * 16 + 16));
    }
    check_close("sdxl CLIPSetLastLayer -1 context", got, want);
  }
}

TEST_CASE("sdxl nodes: CLIPTextEncodeSDXLRefiner matches the sdxl_tiny_refiner conditioner (G only, aesthetic score)", "[sdxl][golden]") {
  GoldenModels m;
  const Ref cond = ref("sdxl_tiny_refiner", "conditioner_io.safetensors");
  const auto prompts = cond.prompts();
  // Prompt 0 has crop (0, 0), which is what the node gives (it has no crop inputs).
  const auto orig = cond.row("original_size_as_tuple", 0), crop = cond.row("crop_coords_top_left", 0);
  REQUIRE(crop == std::vector<float>{0, 0});
  nlohmann::json g = {{"1", loader("sdxl_tiny_refiner")},
                      {"2",
                       {{"class_type", "CLIPTextEncodeSDXLRefiner"},
                        {"inputs",
                         {{"clip", {"1", 1}}, {"ascore", cond.row("aesthetic_score", 0)[0]}, {"width", orig[1]},
                          {"height", orig[0]}, {"text", prompts[0]}}}}},
                      {"9", sink("2")}};
  const auto e = entry(run_node(m, g, "2"));
  check_close("refiner crossattn", host(e.context), cond.row("crossattn", 0));
  check_close("refiner vector", vector_of("sdxl_refiner", e, 0, 0, false), cond.row("vector", 0));
  // Prompt 1 (crop 32,16; ascore 2.5 = ComfyUI's negative default): the same vector builder with the sizes set.
  g["2"]["inputs"]["text"] = prompts[1];
  nodes::CondEntry e1 = entry(run_node(m, g, "2"));
  const auto o1 = cond.row("original_size_as_tuple", 1), c1 = cond.row("crop_coords_top_left", 1);
  e1.size = {};
  e1.size.height = o1[0], e1.size.width = o1[1], e1.size.crop_h = c1[0], e1.size.crop_w = c1[1];
  check_close("refiner vector, negative default ascore", vector_of("sdxl_refiner", e1, 0, 0, true), cond.row("vector", 1));
}

TEST_CASE("sd2 nodes: CLIPTextEncode gives the penultimate layer with ln_final, CLIPSetLastLayer -1 the last", "[sd2][golden]") {
  GoldenModels m;
  const Ref text = ref("sd2_tiny_a", "text_io.safetensors");
  const auto prompts = text.prompts();
  for (int64_t b = 0; b < 2; ++b) {
    nlohmann::json g = {{"1", loader("sd2_tiny_a")},
                        {"2", {{"class_type", "CLIPTextEncode"}, {"inputs", {{"clip", {"1", 1}}, {"text", prompts[size_t(b)]}}}}},
                        {"9", sink("2")}};
    check_close("sd2 CLIPTextEncode cond " + std::to_string(b), host(entry(run_node(m, g, "2")).context), text.row("cond", b));
    g["4"] = {{"class_type", "CLIPSetLastLayer"}, {"inputs", {{"clip", {"1", 1}}, {"stop_at_clip_layer", -1}}}};
    g["2"]["inputs"]["clip"] = {"4", 0};
    const auto e = entry(run_node(m, g, "2"));
    check_close("sd2 CLIPSetLastLayer -1 " + std::to_string(b), host(e.context), text.row("last_hidden_state_ln", b));
    check_close("sd2 pooled " + std::to_string(b), host(*e.pooled), text.row("pooled", b));
  }
}
