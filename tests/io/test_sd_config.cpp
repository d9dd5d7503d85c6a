// SD1.x config detection and the architecture walk, checked against the golden config A, the real
// SD1.5 / SD2.1 manifests, and a synthetic config "B" with different sizes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "engine/io/safetensors.h"
#include "engine/models/sd_config.h"
#include "engine/models/sd_layout.h"
#include "engine/models/unet_tree.h"
#include "tests/io/config_error.h"
#include "tests/io/st_builder.h"

using namespace vkf;
using models::ModelConfig;
using test::require_config_error;

namespace {

nlohmann::json config_a() { return test::read_json(test::golden("sd1_tiny_a/config.json")); }

uint64_t numel_sum(const std::vector<models::TensorSpec>& specs, std::string_view prefix) {
  uint64_t n = 0;
  for (const auto& s : specs) {
    if (!s.name.starts_with(prefix)) continue;
    uint64_t k = 1;
    for (auto d : s.shape) k *= uint64_t(d);
    n += k;
  }
  return n;
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Required tensors of a manifest group, name -> shape.
std::map<std::string, std::vector<int64_t>> manifest_group(const char* file, const char* group) {
  std::map<std::string, std::vector<int64_t>> out;
  const auto j = test::read_json(test::golden(file));
  for (const auto& t : j["tensors"])
    if (t["group"] == group && t["required"].get<bool>()) out[t["name"]] = t["shape"].get<std::vector<int64_t>>();
  return out;
}

std::map<std::string, std::vector<int64_t>> walk_map(const std::vector<models::TensorSpec>& specs,
                                                     std::string_view prefix) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& s : specs)
    if (s.name.starts_with(prefix)) REQUIRE(out.emplace(s.name, s.shape).second);  // no duplicate names
  return out;
}

// The SD1.5 hyper-parameters (v1-inference.yaml + CLIP ViT-L/14).
ModelConfig sd15() { return ModelConfig{}; }

}  // namespace

TEST_CASE("sd_config: config A detected from the golden checkpoint matches config.json", "[cpu][io][sd_config]") {
  const auto j = config_a();
  for (const char* file : {"sd1_tiny_a/ckpt.safetensors", "sd1_tiny_a/ckpt_fp16.safetensors"}) {
    INFO(file);
    const auto st = io::SafeTensors::open(test::golden(file));
    const ModelConfig m = models::detect_config(st, j);
    const auto& ju = j["unet"];
    const auto& u = m.unet;
    CHECK(m.family == "sd1");
    CHECK(u.in_channels == ju["in_channels"]);
    CHECK(u.out_channels == ju["out_channels"]);
    CHECK(u.model_channels == ju["model_channels"]);
    CHECK(u.channel_mult == ju["channel_mult"].get<std::vector<int>>());
    CHECK(u.num_res_blocks == ju["num_res_blocks"]);
    CHECK(u.attention_resolutions == sorted(ju["attention_resolutions"].get<std::vector<int>>()));
    CHECK(u.num_heads == ju["num_heads"]);
    CHECK(u.num_head_channels == -1);
    CHECK(u.context_dim == ju["context_dim"]);
    CHECK(u.transformer_depth_middle == ju["transformer_depth"]);
    CHECK(u.use_linear_in_transformer == (j["unet_derived"]["transformer_proj"] != "Conv2d 1x1"));
    CHECK(u.time_embed_dim == j["unet_derived"]["time_embed_dim"]);
    for (const auto& lv : j["unet_derived"]["levels"]) {
      const int l = lv["level"];
      CHECK(u.level_channels(l) == lv["channels"]);
      CHECK(u.has_attention(l) == lv["attention"].get<bool>());
      CHECK(u.transformer_depth[size_t(l)] == (lv["attention"].get<bool>() ? ju["transformer_depth"].get<int>() : 0));
      if (lv["attention"].get<bool>()) {
        CHECK(u.heads_for(lv["channels"]) == lv["heads"]);
        CHECK(u.head_dim_for(lv["channels"]) == lv["head_dim"]);
      }
    }
    const auto& mid = j["unet_derived"]["middle"];
    CHECK(u.heads_for(mid["channels"]) == mid["heads"]);
    CHECK(u.head_dim_for(mid["channels"]) == mid["head_dim"]);

    const auto& jv = j["vae"]["ddconfig"];
    CHECK(m.vae.embed_dim == j["vae"]["embed_dim"]);
    CHECK(m.vae.ch == jv["ch"]);
    CHECK(m.vae.ch_mult == jv["ch_mult"].get<std::vector<int>>());
    CHECK(m.vae.num_res_blocks == jv["num_res_blocks"]);
    CHECK(m.vae.z_channels == jv["z_channels"]);
    CHECK(m.vae.in_channels == jv["in_channels"]);
    CHECK(m.vae.out_ch == jv["out_ch"]);
    CHECK(m.vae.mid_attn);  // ldm Encoder/Decoder always have mid.attn_1
    CHECK(m.vae.downsample_factor() == j["vae_downsample_factor"]);

    const auto& jt = j["text_encoder"];
    CHECK(m.text.width == jt["width"]);
    CHECK(m.text.layers == jt["layers"]);
    CHECK(m.text.heads == jt["heads"]);
    CHECK(m.text.width / m.text.heads == jt["head_dim"]);
    CHECK(m.text.vocab_size == jt["vocab_size"]);
    CHECK(m.text.max_positions == jt["context_length"]);
    CHECK(m.text.intermediate == jt["intermediate_size"]);
    CHECK(m.text.hidden_act == jt["hidden_act"]);
    CHECK(m.text.layer_norm_eps == jt["layer_norm_eps"].get<float>());
    CHECK(m.text.pad_id == jt["pad_token_id"]);
    CHECK(m.text.bos_id == jt["bos_token_id"]);
    CHECK(m.text.eos_id == jt["eos_token_id"]);

    const auto& js = j["schedule"];
    CHECK(m.schedule.timesteps == js["timesteps"]);
    CHECK(m.schedule.beta_schedule == js["beta_schedule"]);
    CHECK(m.schedule.linear_start == js["linear_start"].get<double>());
    CHECK(m.schedule.linear_end == js["linear_end"].get<double>());
    CHECK(m.schedule.parameterization == js["parameterization"]);
    CHECK(m.scale_factor == j["scale_factor"].get<float>());

    // to_json() writes a config that detect_config reads back to the same result.
    CHECK(models::to_json(models::detect_config(st, models::to_json(m))) == models::to_json(m));
    // Attention ds values beyond the deepest level are ignored, as the reference code does.
    auto j2 = j;
    j2["unet"]["attention_resolutions"] = {16, 2, 1};
    CHECK(models::detect_config(st, j2).unet.attention_resolutions == u.attention_resolutions);

    // The walk accounts for every parameter (config.json param_counts) and every key of the file
    // except the optional schedule buffers and position_ids.
    const auto req = models::required_tensors(m);
    CHECK(numel_sum(req, models::kUNetPrefix) == j["param_counts"]["unet"]);
    CHECK(numel_sum(req, models::kVaePrefix) == j["param_counts"]["vae"]);
    CHECK(numel_sum(req, models::kTextPrefix) == j["param_counts"]["text_encoder"]);
    CHECK(models::check_tensors(st, req).ok());
    std::set<std::string> req_names;
    for (const auto& r : req) req_names.insert(r.name);
    for (const auto& t : st.tensors())
      if (!req_names.count(t.name)) CHECK((t.name.find('.') == std::string::npos || t.name.ends_with("position_ids")));
  }
}

TEST_CASE("sd_config: config A without a config JSON uses SD1.x defaults for heads", "[cpu][io][sd_config]") {
  const auto st = io::SafeTensors::open(test::golden("sd1_tiny_a/ckpt.safetensors"));
  const ModelConfig m = models::detect_config(st, std::nullopt);
  CHECK(m.unet.model_channels == 32);
  CHECK(m.unet.num_heads == 8);             // SD1.x default
  CHECK(m.text.heads == 1);                 // width 64 / 64
  CHECK(m.scale_factor == Approx(0.18215f));
  CHECK(m.schedule.linear_start == 0.00085);
}

TEST_CASE("sd_config: the architecture walk reproduces the real SD1.5 and SD2.1 layouts", "[cpu][io][sd_config]") {
  // SD1.5 (v1-inference.yaml): every required tensor of the manifest, by name and shape, no more.
  const auto req = models::required_tensors(sd15());
  CHECK(walk_map(req, models::kUNetPrefix) == manifest_group("manifest_sd15.json", "unet"));
  CHECK(walk_map(req, models::kVaePrefix) == manifest_group("manifest_sd15.json", "vae"));
  CHECK(walk_map(req, models::kTextPrefix) == manifest_group("manifest_sd15.json", "text"));
  const auto counts = test::read_json(test::golden("manifest_sd15.json"))["counts"];
  CHECK(numel_sum(req, models::kUNetPrefix) == counts["unet"]["elements"]);
  CHECK(numel_sum(req, models::kVaePrefix) == counts["vae"]["elements"]);
  CHECK(numel_sum(req, models::kTextPrefix) == counts["text"]["elements"]);

  // SD2.1 UNet (v2-inference-v.yaml): 64-channel heads, Linear proj_in/out, context 1024.
  models::UNetConfig u21;
  u21.num_heads = -1;
  u21.num_head_channels = 64;
  u21.use_linear_in_transformer = true;
  u21.context_dim = 1024;
  std::vector<models::TensorSpec> specs;
  models::walk_unet(u21, models::ParamWalk([&](const std::string& n, const std::vector<int64_t>& s) { specs.push_back({n, s}); },
                                           models::kUNetPrefix));
  CHECK(walk_map(specs, models::kUNetPrefix) == manifest_group("manifest_sd21.json", "unet"));
  CHECK(walk_map(req, models::kVaePrefix) == manifest_group("manifest_sd21.json", "vae"));
}

TEST_CASE("sd_config: SD1.5 detected from a sparse header-only checkpoint", "[cpu][io][sd_config]") {
  test::TempDir dir;
  const auto p = dir / "v1-5-layout.safetensors";
  io::write_sparse_safetensors(p, test::manifest_tensors(test::golden("manifest_sd15.json")));
  const auto st = io::SafeTensors::open(p);
  REQUIRE(st.tensors().size() == 1143);
  const ModelConfig m = models::detect_config(st, std::nullopt);
  CHECK(m.unet.model_channels == 320);
  CHECK(m.unet.channel_mult == std::vector<int>{1, 2, 4, 4});
  CHECK(m.unet.num_res_blocks == 2);
  CHECK(m.unet.attention_resolutions == std::vector<int>{1, 2, 4});
  CHECK(m.unet.transformer_depth == std::vector<int>{1, 1, 1, 0});
  CHECK(m.unet.num_heads == 8);
  CHECK(m.unet.heads_for(320) == 8);
  CHECK(m.unet.head_dim_for(1280) == 160);
  CHECK(m.unet.context_dim == 768);
  CHECK_FALSE(m.unet.use_linear_in_transformer);
  CHECK(m.unet.time_embed_dim == 1280);
  CHECK(m.text.layers == 12);
  CHECK(m.text.width == 768);
  CHECK(m.text.heads == 12);
  CHECK(m.text.intermediate == 3072);
  CHECK(m.vae.ch == 128);
  CHECK(m.vae.ch_mult == std::vector<int>{1, 2, 4, 4});
  CHECK(m.vae.num_res_blocks == 2);
  CHECK(m.vae.downsample_factor() == 8);
  const auto report = models::check_tensors(st, models::required_tensors(m));
  CHECK(report.missing.empty());
  CHECK(report.wrong_shape.empty());
  CHECK(report.unknown.empty());  // every other key of the real file is a known extra
  CHECK(m.unknown_tensors.empty());
}

// Real SD2.1 / SDXL base / SDXL refiner key layouts (every tensor of the manifests, header-only files) are
// detected as their family and pass the missing / wrong-shape check exactly.
TEST_CASE("sd_config: SD2.1 and SDXL manifests are detected and fully accepted", "[cpu][io][sd_config][sd2][sdxl]") {
  struct M {
    const char* manifest;
    const char* family;
    int context, adm, width;
  };
  for (const M& c : {M{"manifest_sd21.json", "sd2", 1024, 0, 1024}, M{"manifest_sdxl_base.json", "sdxl", 2048, 2816, 768},
                     M{"manifest_sdxl_refiner.json", "sdxl_refiner", 1280, 2560, 0}}) {
    INFO(c.manifest);
    test::TempDir dir;
    const auto p = dir / "layout.safetensors";
    io::write_sparse_safetensors(p, test::manifest_tensors(test::golden(c.manifest)));
    const auto st = io::SafeTensors::open(p);
    const ModelConfig m = models::detect_config(st, std::nullopt);
    CHECK(m.family == c.family);
    CHECK(m.unet.context_dim == c.context);
    CHECK(m.unet.adm_in_channels == c.adm);
    CHECK(m.unet.num_head_channels == 64);
    CHECK((m.text.layers > 0) == (c.width > 0));
    if (c.width) CHECK(m.text.width == c.width);
    CHECK(models::check_tensors(st, models::required_tensors(m)).ok());
    CHECK(m.unknown_tensors.empty());  // schedule buffers, logit_scale, position_ids, denoiser.sigmas: known
    if (m.is_sdxl()) CHECK(m.schedule.parameterization == "eps");  // no v_pred marker (SD2: the data are zeros here)
    CHECK_FALSE(m.schedule.zsnr);
    if (m.is_sdxl()) {
      REQUIRE(m.text_g);
      CHECK(m.text_g->width == 1280);
      CHECK(m.text_g->heads == 20);
      CHECK(m.text_g->projection_dim == 1280);
      CHECK(m.scale_factor == Approx(0.13025f));
    } else {
      CHECK(m.text.open_clip);
      CHECK(m.text.heads == 16);
      CHECK(m.text.pad_id == 0);
    }
    if (std::string(c.family) == "sdxl") {
      CHECK(m.unet.transformer_depth == std::vector<int>{0, 2, 10});
      CHECK(m.unet.transformer_depth_middle == 10);
    }
  }
}

// ComfyUI's SDXL.model_type: a v-prediction finetune marks itself with an empty "v_pred" tensor (and zero
// terminal SNR with "ztsnr"); SD1.x ignores the markers, as ComfyUI does.
TEST_CASE("sd_config: SDXL v_pred / ztsnr marker keys select v-prediction and zsnr", "[cpu][io][sd_config][sdxl]") {
  test::TempDir dir;
  auto base = test::manifest_tensors(test::golden("manifest_sdxl_base.json"));
  const auto detect = [&](const std::vector<const char*>& markers, const char* file) {
    auto t = base;
    for (const char* k : markers) t.push_back({k, {0}, io::StDType::F32});
    io::write_sparse_safetensors(dir / file, t);
    return models::detect_config(io::SafeTensors::open(dir / file), std::nullopt);
  };
  const auto vp = detect({"v_pred"}, "vpred.safetensors");
  CHECK(vp.schedule.parameterization == "v");
  CHECK_FALSE(vp.schedule.zsnr);
  CHECK(vp.unknown_tensors.empty());
  const auto zs = detect({"v_pred", "ztsnr"}, "ztsnr.safetensors");
  CHECK(zs.schedule.parameterization == "v");
  CHECK(zs.schedule.zsnr);
  CHECK(models::to_json(zs)["schedule"]["zsnr"] == true);
  const auto plain = detect({"ztsnr"}, "only_ztsnr.safetensors");  // ztsnr without v_pred: no effect
  CHECK(plain.schedule.parameterization == "eps");
  CHECK_FALSE(plain.schedule.zsnr);

  auto sd1 = test::manifest_tensors(test::golden("manifest_sd15.json"));
  sd1.push_back({"v_pred", {0}, io::StDType::F32});
  io::write_sparse_safetensors(dir / "sd1_vpred.safetensors", sd1);
  CHECK(models::detect_config(io::SafeTensors::open(dir / "sd1_vpred.safetensors"), std::nullopt)
            .schedule.parameterization == "eps");
}
