#pragma once
// SD1.x / SD2.x / SDXL (base, refiner) model hyper-parameters, detected from a checkpoint's tensor
// names/shapes plus an optional config JSON (the fields of shared/golden/*/config.json) for what shapes
// cannot tell.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vkf::io {
class SafeTensors;
}

namespace vkf::models {

struct UNetConfig {
  int in_channels = 4;
  int out_channels = 4;
  int model_channels = 320;
  std::vector<int> channel_mult{1, 2, 4, 4};
  int num_res_blocks = 2;
  std::vector<int> attention_resolutions{1, 2, 4};  // ds values (1 = full latent resolution)
  int num_heads = 8;                                // -1 when heads come from num_head_channels
  int num_head_channels = -1;                       // -1 when given by num_heads
  std::vector<int> transformer_depth{1, 1, 1, 0};   // per level; 0 = no attention at that level
  int transformer_depth_middle = 1;
  int context_dim = 768;
  bool use_linear_in_transformer = false;  // proj_in/proj_out Linear [C,C] instead of conv1x1
  int time_embed_dim = 1280;               // 4 * model_channels in SD
  int adm_in_channels = 0;                 // SDXL vector input y (label_emb); 0 = none

  int levels() const { return int(channel_mult.size()); }
  int level_channels(int level) const { return model_channels * channel_mult.at(size_t(level)); }
  bool has_attention(int level) const { return transformer_depth.at(size_t(level)) > 0; }
  // Attention heads / head width for a transformer on `ch` channels (openaimodel.py rule).
  int heads_for(int ch) const { return num_head_channels > 0 ? ch / num_head_channels : num_heads; }
  int head_dim_for(int ch) const { return num_head_channels > 0 ? num_head_channels : ch / num_heads; }
};

struct VaeConfig {
  int ch = 128;
  std::vector<int> ch_mult{1, 2, 4, 4};
  int num_res_blocks = 2;
  int z_channels = 4;
  int embed_dim = 4;
  int in_channels = 3;
  int out_ch = 3;
  bool mid_attn = true;

  int downsample_factor() const { return 1 << (int(ch_mult.size()) - 1); }
};

struct TextConfig {
  int width = 768;
  int layers = 12;
  int heads = 12;
  int vocab_size = 49408;
  int max_positions = 77;
  int intermediate = 3072;
  std::string hidden_act = "quick_gelu";
  float layer_norm_eps = 1e-5f;
  int pad_id = 49407, bos_id = 49406, eos_id = 49407;
  // open_clip layout (token_embedding, transformer.resblocks.N.attn.in_proj_*, ln_final, text_projection)
  // instead of HF CLIPTextModel; exact GELU and pad id 0 by default.
  bool open_clip = false;
  int projection_dim = 0;  // text_projection [width, projection_dim] (open_clip only)
  std::string prefix = "cond_stage_model.transformer.text_model.";  // checkpoint key prefix of this tower
};

struct ScheduleConfig {
  int timesteps = 1000;
  std::string beta_schedule = "linear";
  double linear_start = 0.00085;
  double linear_end = 0.012;
  std::string parameterization = "eps";  // "eps" or "v"
  bool zsnr = false;                      // sigmas rescaled to zero terminal SNR (ModelSamplingDiscrete zsnr)
};

// family: "sd1", "sd2" (OpenCLIP-H, eps or v), "sdxl" (CLIP-L + OpenCLIP-G, vector y), "sdxl_refiner" (G only).
struct ModelConfig {
  std::string family = "sd1";
  UNetConfig unet;
  VaeConfig vae;
  TextConfig text;                  // SD1/SD2 tower; SDXL base: CLIP-L; unused (layers 0) in the refiner
  std::optional<TextConfig> text_g; // SDXL OpenCLIP-G
  ScheduleConfig schedule;
  float scale_factor = 0.18215f;
  // Optional latent -> RGB preview map from the config sidecar (ComfyUI latent_formats' latent_rgb_factors:
  // one (r,g,b) row per latent channel, flattened; bias 3 values); empty: the family's own.
  std::vector<float> latent_rgb_factors, latent_rgb_bias;
  // The image size the model was made for, from the sidecar's "image_size" ([h, w] or one number, pixels);
  // 0: not given. Only a hint: load-time preparation plans this size (engine/models/prepare.h).
  int image_height = 0, image_width = 0;
  // Tensors of the file that no part of the model reads and that are not a known extra (schedule buffers,
  // model_ema.*, marker keys): reported when the checkpoint loads, never an error (ComfyUI's "left over keys").
  std::vector<std::string> unknown_tensors;

  bool is_sdxl() const { return family == "sdxl" || family == "sdxl_refiner"; }
  bool has_text() const { return text.layers > 0; }
};

// Checkpoint key prefixes of the SD1.x single-file layout.
inline constexpr const char* kUNetPrefix = "model.diffusion_model.";
inline constexpr const char* kVaePrefix = "first_stage_model.";
inline constexpr const char* kTextPrefix = "cond_stage_model.transformer.text_model.";
inline constexpr const char* kSd2TextPrefix = "cond_stage_model.model.";
inline constexpr const char* kSdxlTextLPrefix = "conditioner.embedders.0.transformer.text_model.";
inline constexpr const char* kSdxlTextGPrefix = "conditioner.embedders.1.model.";
inline constexpr const char* kRefinerTextGPrefix = "conditioner.embedders.0.model.";

// Bad or contradictory model description (message names the checkpoint / config file and field).
struct ModelConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Detects the family and every hyper-parameter from the weights; head counts, text activation /
// token ids, schedule and scale factor come from `config` (SD1.x defaults when absent). Values in
// `config` that the weights also determine must agree with them. Also verifies that every tensor
// the architecture needs is present with the right shape (see sd_layout.h).
ModelConfig detect_config(const io::SafeTensors& st, const std::optional<nlohmann::json>& config);

// Where the AutoencoderKL tensors of `st` live: kVaePrefix in a full SD checkpoint, "" in a standalone VAE
// file (encoder.*, decoder.*, quant_conv.*, post_quant_conv.*, as vae-ft-mse-840000-ema-pruned has).
// Throws ModelConfigError naming the file and a missing tensor when it is neither.
std::string detect_vae_prefix(const io::SafeTensors& st);

// Only the VAE of `st`, its tensors under `prefix`: ModelConfig::vae from the shapes (checked against the
// "vae" section of `config`), scale_factor from `config` else SD1.x's 0.18215; every VAE tensor is
// verified. The other fields keep their defaults and mean nothing.
ModelConfig detect_vae_config(const io::SafeTensors& st, const std::string& prefix,
                              const std::optional<nlohmann::json>& config);

// The config JSON to use with `ckpt`: `explicit_cfg` when given (must exist and parse), otherwise
// "<dir>/<stem>.json" next to the checkpoint when that exists, otherwise nullopt.
// The returned JSON carries the source path under "__source__" for error messages.
std::optional<nlohmann::json> find_sidecar_config(const std::filesystem::path& ckpt,
                                                  const std::optional<std::filesystem::path>& explicit_cfg);

// Everything in `cfg`, in the config.json field layout (for logs, `vkflow info`, tests).
nlohmann::json to_json(const ModelConfig& cfg);

}  // namespace vkf::models
