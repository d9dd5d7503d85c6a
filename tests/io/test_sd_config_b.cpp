// Config "B" (different sizes, heads per head-channels, Linear proj, depth 2), missing / wrong
// tensors, contradicting configs and sidecar lookup, on synthetic sparse checkpoints.
#include <catch2/catch.hpp>

#include "engine/io/safetensors.h"
#include "engine/models/sd_config.h"
#include "engine/models/sd_layout.h"
#include "tests/io/config_error.h"
#include "tests/io/st_builder.h"

using namespace vkf;
using models::ModelConfig;
using test::require_config_error;

namespace {

// Config "B" as a config.json-style document (what a user would place next to the checkpoint).
nlohmann::json config_b_json() {
  return nlohmann::json::parse(R"({
    "unet": {"in_channels": 4, "out_channels": 4, "model_channels": 48, "channel_mult": [1, 2],
             "num_res_blocks": 2, "attention_resolutions": [2], "num_head_channels": 16, "num_heads": -1,
             "transformer_depth": 2, "context_dim": 96, "use_linear_in_transformer": true},
    "vae": {"embed_dim": 4, "ddconfig": {"double_z": true, "z_channels": 4, "in_channels": 3, "out_ch": 3,
            "ch": 16, "ch_mult": [1, 2, 4], "num_res_blocks": 1, "attn_resolutions": []}},
    "text_encoder": {"width": 96, "layers": 3, "heads": 6, "vocab_size": 49408, "context_length": 77,
                     "intermediate_size": 384, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05},
    "schedule": {"timesteps": 1000, "beta_schedule": "linear", "linear_start": 0.00085, "linear_end": 0.012,
                 "parameterization": "v"},
    "scale_factor": 0.13025
  })");
}

// The same hyper-parameters as structs, used only to enumerate the synthetic file's tensors.
ModelConfig config_b_structs() {
  ModelConfig m;
  m.unet.model_channels = 48;
  m.unet.channel_mult = {1, 2};
  m.unet.num_res_blocks = 2;
  m.unet.attention_resolutions = {2};
  m.unet.transformer_depth = {0, 2};
  m.unet.transformer_depth_middle = 2;
  m.unet.num_heads = -1;
  m.unet.num_head_channels = 16;
  m.unet.context_dim = 96;
  m.unet.use_linear_in_transformer = true;
  m.unet.time_embed_dim = 4 * 48;
  m.vae.ch = 16;
  m.vae.ch_mult = {1, 2, 4};
  m.vae.num_res_blocks = 1;
  m.text.width = 96;
  m.text.layers = 3;
  m.text.heads = 6;
  m.text.intermediate = 384;
  return m;
}

std::vector<io::SynthTensor> without(std::vector<io::SynthTensor> ts, const std::string& name) {
  const auto n = ts.size();
  std::erase_if(ts, [&](const io::SynthTensor& t) { return t.name == name; });
  REQUIRE(ts.size() + 1 == n);
  return ts;
}

}  // namespace

TEST_CASE("sd_config: config B (per-head-channels, Linear proj, depth 2) is detected", "[cpu][io][sd_config]") {
  test::TempDir dir;
  const auto p = dir / "tiny_b.safetensors";
  const auto tensors = test::model_tensors(config_b_structs());
  // Spot-check the synthetic layout against the reference code's shapes (openaimodel.py /
  // attention.py with use_linear=True: proj_in Linear [C,C]; GEGLU proj [8C, C]; attn2.to_k [C, ctx]).
  std::map<std::string, std::vector<int64_t>> by_name;
  for (const auto& t : tensors) by_name[t.name] = t.shape;
  const std::string u = models::kUNetPrefix;
  CHECK(by_name.at(u + "input_blocks.4.1.proj_in.weight") == std::vector<int64_t>{96, 96});
  CHECK(by_name.at(u + "input_blocks.5.1.transformer_blocks.1.attn2.to_k.weight") == std::vector<int64_t>{96, 96});
  CHECK(by_name.at(u + "input_blocks.4.1.transformer_blocks.0.ff.net.0.proj.weight") == std::vector<int64_t>{768, 96});
  CHECK(by_name.at(u + "input_blocks.3.0.op.weight") == std::vector<int64_t>{48, 48, 3, 3});
  CHECK(by_name.at(u + "output_blocks.0.0.skip_connection.weight") == std::vector<int64_t>{96, 192, 1, 1});
  CHECK(by_name.at(u + "output_blocks.2.2.conv.weight") == std::vector<int64_t>{96, 96, 3, 3});
  CHECK(by_name.count(u + "input_blocks.1.1.norm.weight") == 0);  // no attention at ds 1
  CHECK(by_name.at("first_stage_model.decoder.up.0.block.0.nin_shortcut.weight") == std::vector<int64_t>{16, 32, 1, 1});
  io::write_sparse_safetensors(p, tensors);

  const auto st = io::SafeTensors::open(p);
  const ModelConfig m = models::detect_config(st, config_b_json());
  CHECK(m.unet.model_channels == 48);
  CHECK(m.unet.channel_mult == std::vector<int>{1, 2});
  CHECK(m.unet.num_res_blocks == 2);
  CHECK(m.unet.attention_resolutions == std::vector<int>{2});
  CHECK(m.unet.transformer_depth == std::vector<int>{0, 2});
  CHECK(m.unet.transformer_depth_middle == 2);
  CHECK(m.unet.num_heads == -1);
  CHECK(m.unet.num_head_channels == 16);
  CHECK(m.unet.heads_for(96) == 6);
  CHECK(m.unet.head_dim_for(96) == 16);
  CHECK(m.unet.context_dim == 96);
  CHECK(m.unet.use_linear_in_transformer);
  CHECK(m.unet.time_embed_dim == 192);
  CHECK(m.text.width == 96);
  CHECK(m.text.layers == 3);
  CHECK(m.text.heads == 6);
  CHECK(m.text.intermediate == 384);
  CHECK(m.vae.ch == 16);
  CHECK(m.vae.ch_mult == std::vector<int>{1, 2, 4});
  CHECK(m.vae.num_res_blocks == 1);
  CHECK(m.vae.downsample_factor() == 4);
  CHECK(m.schedule.parameterization == "v");
  CHECK(m.scale_factor == Approx(0.13025f));

  // Without a config the text heads cannot be known (96 is not a multiple of 64): say so.
  require_config_error([&] { models::detect_config(st, std::nullopt); }, {"tiny_b.safetensors", "text_encoder.heads"});
  // A sidecar "<stem>.json" is found next to the checkpoint.
  { std::ofstream(dir / "tiny_b.json") << config_b_json().dump(); }
  const auto side = models::find_sidecar_config(p, std::nullopt);
  REQUIRE(side.has_value());
  CHECK((*side)["__source__"] == "tiny_b.json");
  CHECK(models::detect_config(st, side).text.heads == 6);
}

TEST_CASE("sd_config: missing and wrongly shaped tensors are named", "[cpu][io][sd_config]") {
  test::TempDir dir;
  const auto all = test::model_tensors(config_b_structs());
  const std::string gone = std::string(models::kUNetPrefix) + "output_blocks.1.1.transformer_blocks.1.attn2.to_v.weight";
  io::write_sparse_safetensors(dir / "missing.safetensors", without(all, gone));
  const auto st = io::SafeTensors::open(dir / "missing.safetensors");
  require_config_error([&] { models::detect_config(st, config_b_json()); }, {"missing.safetensors", "missing", gone});

  // A tensor detection itself needs is reported with what it was needed for.
  const std::string conv0 = std::string(models::kUNetPrefix) + "input_blocks.0.0.weight";
  io::write_sparse_safetensors(dir / "noconv.safetensors", without(all, conv0));
  const auto st2 = io::SafeTensors::open(dir / "noconv.safetensors");
  require_config_error([&] { models::detect_config(st2, config_b_json()); }, {"noconv.safetensors", conv0});

  auto bad = all;
  const std::string vname = "first_stage_model.decoder.up.1.block.0.conv1.weight";
  for (auto& t : bad)
    if (t.name == vname) t.shape = {32, 64, 3, 1};
  io::write_sparse_safetensors(dir / "shape.safetensors", bad);
  const auto st3 = io::SafeTensors::open(dir / "shape.safetensors");
  require_config_error([&] { models::detect_config(st3, config_b_json()); },
                       {"shape.safetensors", "wrong shape for " + vname + ": expected [32, 64, 3, 3] got [32, 64, 3, 1]"});

  // Known extra keys (EMA copies, schedule buffers) are ignored silently; others are listed, not refused.
  auto extra = all;
  extra.push_back({"model_ema.decay", {}, io::StDType::F32});
  extra.push_back({"model_ema.diffusion_modelinput_blocks00weight", {48, 4, 3, 3}, io::StDType::F32});
  extra.push_back({"betas", {1000}, io::StDType::F32});
  io::write_sparse_safetensors(dir / "extra.safetensors", extra);
  const auto m = models::detect_config(io::SafeTensors::open(dir / "extra.safetensors"), config_b_json());
  CHECK(m.unet.model_channels == 48);
  CHECK(m.unknown_tensors.empty());
  extra.push_back({"lora_unet_down.alpha", {}, io::StDType::F32});
  extra.push_back({std::string(models::kUNetPrefix) + "input_blocks.99.0.weight", {4}, io::StDType::F32});
  io::write_sparse_safetensors(dir / "unknown.safetensors", extra);
  const auto u = models::detect_config(io::SafeTensors::open(dir / "unknown.safetensors"), config_b_json());
  REQUIRE(u.unknown_tensors.size() == 2);
  CHECK(u.unknown_tensors[0] == "lora_unet_down.alpha");
  const auto msg = models::unknown_tensors_message("unknown.safetensors", u.unknown_tensors);
  CHECK_THAT(msg, Catch::Contains("unknown.safetensors: 2 tensor(s) not used by the model (ignored)"));
  CHECK_THAT(msg, Catch::Contains("input_blocks.99.0.weight"));
}

TEST_CASE("sd_config: config values contradicting the weights are refused", "[cpu][io][sd_config]") {
  const auto st = io::SafeTensors::open(test::golden("sd1_tiny_a/ckpt.safetensors"));
  const auto base = test::read_json(test::golden("sd1_tiny_a/config.json"));
  const auto with = [&](const nlohmann::json::json_pointer& ptr, nlohmann::json v) {
    auto j = base;
    j[ptr] = std::move(v);
    j["__source__"] = "a.json";
    return j;
  };
  using P = nlohmann::json::json_pointer;
  require_config_error([&] { models::detect_config(st, with(P("/unet/channel_mult"), {1, 2, 4})); },
                       {"a.json", "unet.channel_mult", "[1,2,4]", "ckpt.safetensors", "[1,2,2]"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/model_channels"), 64)); }, {"unet.model_channels"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/attention_resolutions"), {1})); },
                       {"unet.attention_resolutions"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/transformer_depth"), 2)); }, {"transformer_depth"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/use_linear_in_transformer"), true)); },
                       {"use_linear_in_transformer"});
  require_config_error([&] { models::detect_config(st, with(P("/vae/ddconfig/ch_mult"), {1, 2, 4})); },
                       {"vae.ddconfig.ch_mult"});
  require_config_error([&] { models::detect_config(st, with(P("/text_encoder/layers"), 12)); }, {"text_encoder.layers"});
  require_config_error([&] { models::detect_config(st, with(P("/text_encoder/heads"), 5)); }, {"text_encoder.heads"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/num_heads"), "four")); },
                       {"unet.num_heads", "integer"});
  require_config_error([&] { models::detect_config(st, with(P("/unet/num_heads"), 5)); }, {"heads", "32"});
  require_config_error([&] { models::detect_config(st, with(P("/schedule/parameterization"), "x0")); },
                       {"schedule.parameterization"});
}

TEST_CASE("sd_config: sidecar config lookup", "[cpu][io][sd_config]") {
  test::TempDir dir;
  CHECK_FALSE(models::find_sidecar_config(dir / "m.safetensors", std::nullopt).has_value());
  require_config_error([&] { models::find_sidecar_config(dir / "m.safetensors", dir / "nope.json"); }, {"nope.json"});
  { std::ofstream(dir / "bad.json") << "{ not json"; }
  require_config_error([&] { models::find_sidecar_config(dir / "m.safetensors", dir / "bad.json"); }, {"bad.json", "JSON"});
  const auto j = models::find_sidecar_config(dir / "m.safetensors", test::golden("sd1_tiny_a/config.json"));
  REQUIRE(j.has_value());
  CHECK((*j)["unet"]["num_heads"] == 4);
  CHECK((*j)["__source__"] == "config.json");
}
