#include "engine/models/sd_config_detect.h"

#include <algorithm>
#include <cmath>

#include "engine/io/safetensors.h"

namespace vkf::models::detail {

namespace {

// Tensor lookups under one prefix, with errors that say what the tensor was needed for.
class Probe {
 public:
  Probe(const io::SafeTensors& st, std::string prefix) : st_(st), prefix_(std::move(prefix)) {}

  bool has(const std::string& name) const { return st_.find(prefix_ + name) != nullptr; }

  // rank 0 = any rank.
  const std::vector<int64_t>& shape(const std::string& name, size_t rank, const char* why) const {
    const auto* t = st_.find(prefix_ + name);
    if (!t) fail("missing tensor '" + prefix_ + name + "' (needed to detect " + why + ")");
    if (rank != 0 && t->shape.size() != rank) {
      fail("tensor '" + prefix_ + name + "' has shape " + io::shape_str(t->shape) + ", expected rank " +
           std::to_string(rank) + " (needed to detect " + why + ")");
    }
    return t->shape;
  }
  int dim(const std::string& name, size_t rank, size_t i, const char* why) const {
    return int(shape(name, rank, why)[i]);
  }
  // Number of consecutive indices i = 0, 1, ... for which "<base><i><suffix>" exists.
  int count(const std::string& base, const std::string& suffix) const {
    int n = 0;
    while (has(base + std::to_string(n) + suffix)) ++n;
    return n;
  }
  // Whether any tensor is named "<prefix><name>...": a module exists even when one of its tensors is missing.
  bool has_under(const std::string& name) const {
    const std::string full = prefix_ + name;
    return std::any_of(st_.tensors().begin(), st_.tensors().end(),
                       [&](const io::StTensorInfo& t) { return t.name.starts_with(full); });
  }
  // Number of consecutive indices i for which some "<base><i>." tensor exists (depth counts that a missing
  // tensor cannot shorten: the tensor check then names it).
  int count_under(const std::string& base) const {
    int n = 0;
    while (has_under(base + std::to_string(n) + ".")) ++n;
    return n;
  }
  [[noreturn]] void fail(const std::string& msg) const {
    throw ModelConfigError(st_.path().filename().string() + ": " + msg);
  }

 private:
  const io::SafeTensors& st_;
  std::string prefix_;
};

bool has_prefix(const io::SafeTensors& st, std::string_view prefix) {
  return std::any_of(st.tensors().begin(), st.tensors().end(),
                     [&](const io::StTensorInfo& t) { return t.name.starts_with(prefix); });
}

std::string lvl(size_t l) { return "UNet level " + std::to_string(l); }

UNetConfig detect_unet(const Probe& p) {
  UNetConfig u;
  const auto& c0 = p.shape("input_blocks.0.0.weight", 4, "UNet model_channels");
  u.model_channels = int(c0[0]);
  u.in_channels = int(c0[1]);
  u.out_channels = p.dim("out.2.weight", 4, 0, "UNet out_channels");
  u.time_embed_dim = p.dim("time_embed.0.weight", 2, 0, "UNet time_embed_dim");
  if (u.model_channels <= 0) p.fail("UNet model_channels is 0");

  // Input blocks: per level ResBlocks (each maybe followed by a transformer at "<k>.1"), and a
  // Downsample ("<k>.0.op") closing every level but the last.
  std::vector<int> level_ch{-1}, res_count{0}, depth{-1};
  std::string first_tf;  // first transformer's prefix: tells context_dim and the proj_in kind
  for (int idx = 1;; ++idx) {
    const std::string b = "input_blocks." + std::to_string(idx) + ".";
    if (!p.has_under(b)) break;  // a block with a missing tensor still counts; the shape probes name it
    if (p.has_under(b + "0.op.")) {
      level_ch.push_back(-1), res_count.push_back(0), depth.push_back(-1);
      continue;
    }
    const size_t l = level_ch.size() - 1;
    const int ch = p.dim(b + "0.in_layers.2.weight", 4, 0, "UNet level widths");
    if (level_ch[l] != -1 && level_ch[l] != ch)
      p.fail(lvl(l) + " mixes channel widths " + std::to_string(level_ch[l]) + " and " + std::to_string(ch) +
             " (at input_blocks." + std::to_string(idx) + ")");
    level_ch[l] = ch;
    ++res_count[l];
    const int d = p.has_under(b + "1.") ? p.count_under(b + "1.transformer_blocks.") : 0;
    if (p.has_under(b + "1.") && d == 0)
      p.fail("missing tensor '" + std::string(kUNetPrefix) + b + "1.transformer_blocks.0.norm1.weight' (a transformer with no blocks)");
    if (d > 0 && first_tf.empty()) first_tf = b + "1.";
    if (depth[l] != -1 && depth[l] != d)
      p.fail(lvl(l) + " mixes transformer depths (at input_blocks." + std::to_string(idx) + ")");
    depth[l] = d;
  }
  u.num_res_blocks = res_count[0];
  if (u.num_res_blocks == 0) p.fail("no UNet ResBlocks found (missing 'input_blocks.1.0.in_layers.2.weight')");
  u.channel_mult.clear();
  u.attention_resolutions.clear();
  for (size_t l = 0; l < level_ch.size(); ++l) {
    if (res_count[l] != u.num_res_blocks)
      p.fail(lvl(l) + " has " + std::to_string(res_count[l]) + " ResBlocks but level 0 has " +
             std::to_string(u.num_res_blocks));
    if (level_ch[l] % u.model_channels != 0)
      p.fail(lvl(l) + " width " + std::to_string(level_ch[l]) + " is not a multiple of model_channels " +
             std::to_string(u.model_channels));
    u.channel_mult.push_back(level_ch[l] / u.model_channels);
    if (depth[l] > 0) u.attention_resolutions.push_back(1 << l);
  }
  u.transformer_depth = depth;

  u.transformer_depth_middle = p.count_under("middle_block.1.transformer_blocks.");
  if (u.transformer_depth_middle == 0)
    p.fail("missing tensor 'middle_block.1.transformer_blocks.0.norm1.weight' (UNet middle transformer)");
  if (first_tf.empty()) first_tf = "middle_block.1.";
  const size_t proj_rank = p.shape(first_tf + "proj_in.weight", 0, "the transformer proj_in kind").size();
  if (proj_rank != 2 && proj_rank != 4)
    p.fail("tensor '" + first_tf + "proj_in.weight' must be a Linear [C,C] or a conv1x1 [C,C,1,1]");
  u.use_linear_in_transformer = proj_rank == 2;
  u.context_dim = p.dim(first_tf + "transformer_blocks.0.attn2.to_k.weight", 2, 1, "UNet context_dim");
  if (p.has("label_emb.0.0.weight")) u.adm_in_channels = p.dim("label_emb.0.0.weight", 2, 1, "UNet adm_in_channels");
  return u;
}

VaeConfig detect_vae(const Probe& p) {
  VaeConfig v;
  const auto& ci = p.shape("encoder.conv_in.weight", 4, "VAE ch");
  v.ch = int(ci[0]);
  v.in_channels = int(ci[1]);
  if (v.ch <= 0) p.fail("VAE ch is 0");
  const int levels = p.count("encoder.down.", ".block.0.conv1.weight");
  if (levels == 0) p.fail("missing tensor 'encoder.down.0.block.0.conv1.weight' (needed to detect VAE ch_mult)");
  v.num_res_blocks = p.count("encoder.down.0.block.", ".conv1.weight");
  v.ch_mult.clear();
  for (int l = 0; l < levels; ++l) {
    const std::string d = "encoder.down." + std::to_string(l) + ".";
    if (p.has(d + "attn.0.q.weight")) p.fail("VAE attention inside resolution levels is not supported (" + d + "attn)");
    const int n = p.count(d + "block.", ".conv1.weight");
    if (n != v.num_res_blocks)
      p.fail("VAE encoder level " + std::to_string(l) + " has " + std::to_string(n) + " blocks but level 0 has " +
             std::to_string(v.num_res_blocks));
    const int ch = p.dim(d + "block.0.conv1.weight", 4, 0, "VAE ch_mult");
    if (ch % v.ch != 0)
      p.fail("VAE level " + std::to_string(l) + " width " + std::to_string(ch) + " is not a multiple of ch " +
             std::to_string(v.ch));
    v.ch_mult.push_back(ch / v.ch);
  }
  v.z_channels = p.dim("decoder.conv_in.weight", 4, 1, "VAE z_channels");
  v.out_ch = p.dim("decoder.conv_out.weight", 4, 0, "VAE out_ch");
  v.embed_dim = p.dim("post_quant_conv.weight", 4, 1, "VAE embed_dim");
  v.mid_attn = p.has("encoder.mid.attn_1.q.weight");
  return v;
}

// The tensor names a text tower's sizes are read from (HF CLIPTextModel vs open_clip layout).
struct TextKeys {
  const char *token, *position, *layer_prefix, *layer_suffix, *fc1;
};

// Sizes every CLIP-style tower shares: vocabulary, width, context, layers, MLP width. CLIP ViT-L/14 and
// the open_clip towers use 64-wide heads; anything else must come from a config.
TextConfig detect_text_sizes(const Probe& p, const TextKeys& k) {
  TextConfig t;
  const auto& tok = p.shape(k.token, 2, "text width and vocab size");
  t.vocab_size = int(tok[0]);
  t.width = int(tok[1]);
  t.max_positions = p.dim(k.position, 2, 0, "text context length");
  t.layers = p.count(k.layer_prefix, k.layer_suffix);
  if (t.layers == 0)
    p.fail(std::string("missing tensor '") + k.layer_prefix + "0" + k.layer_suffix + "' (needed to detect text layers)");
  t.intermediate = p.dim(k.fc1, 2, 0, "text MLP width");
  t.heads = t.width % 64 == 0 ? t.width / 64 : -1;
  return t;
}

TextConfig detect_text(const Probe& p) {
  return detect_text_sizes(p, {"embeddings.token_embedding.weight", "embeddings.position_embedding.weight",
                               "encoder.layers.", ".layer_norm1.weight", "encoder.layers.0.mlp.fc1.weight"});
}

// open_clip text tower (SD2's ViT-H, SDXL's ViT-bigG): exact GELU, pad id 0, a text projection.
TextConfig detect_open_clip_text(const Probe& p, const std::string& prefix) {
  TextConfig t = detect_text_sizes(p, {"token_embedding.weight", "positional_embedding", "transformer.resblocks.",
                                       ".ln_1.weight", "transformer.resblocks.0.mlp.c_fc.weight"});
  t.prefix = prefix;
  t.open_clip = true;
  t.hidden_act = "gelu";
  t.pad_id = 0;
  t.projection_dim = p.dim("text_projection", 2, 1, "text projection width");
  return t;
}

// ComfyUI's SD2.x rule (supported_models.SD20.model_type): 768-v checkpoints have a wide spread in the
// last output transformer's norm1 bias (std > 0.09); 4-channel models without it are eps (512-base).
std::string sd2_parameterization(const io::SafeTensors& st) {
  const auto* t = st.find(std::string(kUNetPrefix) + "output_blocks.11.1.transformer_blocks.0.norm1.bias");
  const auto* in = st.find(std::string(kUNetPrefix) + "input_blocks.0.0.weight");
  if (!t || !in || in->shape.size() != 4 || in->shape[1] != 4) return "eps";
  const auto v = st.to_f32(*t);
  double mean = 0, var = 0;
  for (float x : v) mean += x;
  mean /= double(std::max<size_t>(1, v.size()));
  for (float x : v) var += (x - mean) * (x - mean);
  var /= double(std::max<size_t>(1, v.size()));
  return std::sqrt(var) > 0.09 ? "v" : "eps";
}

}  // namespace

VaeConfig detect_vae_from_weights(const io::SafeTensors& st, const std::string& prefix) {
  return detect_vae(Probe(st, prefix));
}

ModelConfig detect_from_weights(const io::SafeTensors& st) {
  const std::string file = st.path().filename().string();
  if (!has_prefix(st, kUNetPrefix))
    throw ModelConfigError(file + ": not a Stable Diffusion checkpoint (no tensors under '" + kUNetPrefix + "')");
  ModelConfig m;
  if (has_prefix(st, kTextPrefix)) {
    m.family = "sd1";
    m.text = detect_text(Probe(st, kTextPrefix));
    m.text.prefix = kTextPrefix;
  } else if (has_prefix(st, kSd2TextPrefix)) {
    m.family = "sd2";
    m.text = detect_open_clip_text(Probe(st, kSd2TextPrefix), kSd2TextPrefix);
  } else if (has_prefix(st, kSdxlTextLPrefix) && has_prefix(st, kSdxlTextGPrefix)) {
    m.family = "sdxl";
    m.text = detect_text(Probe(st, kSdxlTextLPrefix));
    m.text.prefix = kSdxlTextLPrefix;
    m.text_g = detect_open_clip_text(Probe(st, kSdxlTextGPrefix), kSdxlTextGPrefix);
  } else if (has_prefix(st, kRefinerTextGPrefix)) {
    m.family = "sdxl_refiner";
    m.text.layers = 0;
    m.text.prefix.clear();
    m.text_g = detect_open_clip_text(Probe(st, kRefinerTextGPrefix), kRefinerTextGPrefix);
  } else {
    throw ModelConfigError(file + ": no text encoder found: expected tensors under '" + kTextPrefix + "' (SD1.x), '" +
                           kSd2TextPrefix + "' (SD2.x), '" + kSdxlTextLPrefix + "' + '" + kSdxlTextGPrefix +
                           "' (SDXL) or '" + kRefinerTextGPrefix + "' (SDXL refiner)");
  }
  m.unet = detect_unet(Probe(st, kUNetPrefix));
  m.vae = detect_vae(Probe(st, kVaePrefix));
  if (m.family != "sd1") {
    // SD2.x and SDXL use 64-wide attention heads (num_head_channels 64); SD1.x's 8 heads stay the default.
    m.unet.num_head_channels = 64;
    m.unet.num_heads = -1;
  }
  if (m.family == "sd2") m.schedule.parameterization = sd2_parameterization(st);
  // ComfyUI's SDXL.model_type: v-prediction finetunes carry an empty "v_pred" marker tensor, and those
  // trained for zero terminal SNR a "ztsnr" one too (other families ignore both, as ComfyUI does).
  if (m.family == "sdxl" && st.find("v_pred")) {
    m.schedule.parameterization = "v";
    m.schedule.zsnr = st.find("ztsnr") != nullptr;
  }
  if (m.is_sdxl()) {
    m.scale_factor = 0.13025f;
    if (m.unet.adm_in_channels == 0)
      throw ModelConfigError(file + ": SDXL checkpoint without the UNet vector input (missing '" +
                             std::string(kUNetPrefix) + "label_emb.0.0.weight')");
  } else if (m.unet.adm_in_channels != 0) {
    throw ModelConfigError(file + ": " + m.family + " checkpoint with an SDXL vector input (label_emb) is not supported");
  }
  return m;
}

}  // namespace vkf::models::detail
