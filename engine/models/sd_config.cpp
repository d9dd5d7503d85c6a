#include "engine/models/sd_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/io/json_limits.h"
#include "engine/io/safetensors.h"
#include "engine/models/sd_config_detect.h"
#include "engine/models/sd_layout.h"

namespace vkf::models {

namespace detail {

namespace {

// Reads fields of one config section and checks them against detected values. Messages look like
// "ckpt.json: unet.channel_mult [1,2,2] contradicts the weights of ckpt.safetensors ([1,2,4])".
class Section {
 public:
  Section(const nlohmann::json* j, std::string path, std::string src, std::string ckpt)
      : j_(j), path_(std::move(path)), src_(std::move(src)), ckpt_(std::move(ckpt)) {
    if (j_ && !j_->is_object()) fail(path_, "must be an object");
  }
  explicit operator bool() const { return j_ != nullptr; }

  Section sub(const char* key) const {
    const nlohmann::json* s = j_ ? find(key) : nullptr;
    return Section(s, join(key), src_, ckpt_);
  }
  const nlohmann::json* find(const char* key) const {
    if (!j_) return nullptr;
    const auto it = j_->find(key);
    return it == j_->end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<int> get_int(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) fail(key, "must be an integer, got " + v->dump());
    return int(v->get<int64_t>());
  }
  std::optional<double> get_num(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(key, "must be a number, got " + v->dump());
    return v->get<double>();
  }
  std::optional<std::string> get_str(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "must be a string, got " + v->dump());
    return v->get<std::string>();
  }
  std::optional<bool> get_bool(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key, "must be true or false, got " + v->dump());
    return v->get<bool>();
  }
  std::optional<std::vector<int>> get_ints(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) fail(key, "must be an array of integers, got " + v->dump());
    std::vector<int> out;
    for (const auto& e : *v) {
      if (!e.is_number_integer()) fail(key, "must be an array of integers, got " + v->dump());
      out.push_back(int(e.get<int64_t>()));
    }
    return out;
  }

  template <class T>
  void agree(const char* key, const std::optional<T>& given, const T& detected) const {
    if (given && *given != detected) contradiction(key, nlohmann::json(*given).dump(), nlohmann::json(detected).dump());
  }
  void agree_int(const char* key, int detected) const { agree(key, get_int(key), detected); }

  [[noreturn]] void contradiction(const char* key, const std::string& given, const std::string& detected) const {
    fail(key, given + " contradicts the weights of " + ckpt_ + " (" + detected + ")");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ModelConfigError(src_ + ": " + join(key) + " " + msg);
  }
  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const nlohmann::json* j_;
  std::string path_, src_, ckpt_;
};

void merge_unet(UNetConfig& u, const Section& s) {
  s.agree_int("in_channels", u.in_channels);
  s.agree_int("out_channels", u.out_channels);
  s.agree_int("model_channels", u.model_channels);
  s.agree_int("num_res_blocks", u.num_res_blocks);
  s.agree_int("context_dim", u.context_dim);
  s.agree_int("adm_in_channels", u.adm_in_channels);
  s.agree("channel_mult", s.get_ints("channel_mult"), u.channel_mult);
  if (auto a = s.get_ints("attention_resolutions")) {
    // The reference code ignores ds values no level reaches (e.g. [4, 2, 1] on a 2-level UNet).
    const int max_ds = 1 << (int(u.channel_mult.size()) - 1);
    std::erase_if(*a, [&](int ds) { return ds > max_ds; });
    std::sort(a->begin(), a->end());
    a->erase(std::unique(a->begin(), a->end()), a->end());
    s.agree("attention_resolutions", a, u.attention_resolutions);
  }
  if (const auto* td = s.find("transformer_depth")) {
    // A scalar applies to every attention level and the middle block; a list is per level (entries of
    // levels without attention are not used by the reference code, so they are not checked).
    std::vector<int> given;
    if (td->is_number_integer()) {
      given.assign(u.channel_mult.size(), int(td->get<int64_t>()));
      s.agree("transformer_depth (middle block)", std::optional<int>(given[0]), u.transformer_depth_middle);
    } else {
      given = *s.get_ints("transformer_depth");
      if (given.size() != u.channel_mult.size())
        s.contradiction("transformer_depth", td->dump(), std::to_string(u.channel_mult.size()) + " levels");
    }
    for (size_t l = 0; l < given.size(); ++l)
      if (u.transformer_depth[l] > 0 && given[l] != u.transformer_depth[l])
        s.contradiction("transformer_depth", td->dump(), nlohmann::json(u.transformer_depth).dump());
  }
  s.agree_int("transformer_depth_middle", u.transformer_depth_middle);
  s.agree("use_linear_in_transformer", s.get_bool("use_linear_in_transformer"), u.use_linear_in_transformer);

  // openaimodel.py: num_head_channels wins unless it is -1.
  const auto hc = s.get_int("num_head_channels");
  const auto nh = s.get_int("num_heads");
  if (hc && *hc != -1) {
    u.num_head_channels = *hc, u.num_heads = -1;
  } else if (nh && *nh != -1) {
    u.num_heads = *nh, u.num_head_channels = -1;
  }
  if (u.num_head_channels <= 0 && u.num_heads <= 0) s.fail("num_heads", "or num_head_channels must be positive");
}

void merge_vae(VaeConfig& v, const Section& vae) {
  // config.json nests the encoder/decoder fields under "ddconfig" (as the LDM yaml does).
  const Section dd = vae.find("ddconfig") ? vae.sub("ddconfig") : vae;
  vae.agree_int("embed_dim", v.embed_dim);
  dd.agree_int("ch", v.ch);
  dd.agree("ch_mult", dd.get_ints("ch_mult"), v.ch_mult);
  dd.agree_int("num_res_blocks", v.num_res_blocks);
  dd.agree_int("z_channels", v.z_channels);
  dd.agree_int("in_channels", v.in_channels);
  dd.agree_int("out_ch", v.out_ch);
  // attn_resolutions is not checked: it is matched against image resolutions, and attention inside
  // levels (down.i.attn) is refused by detection when the weights actually have it.
  if (auto dz = dd.get_bool("double_z"); dz && !*dz) dd.fail("double_z", "false is not supported");
}

void merge_text(TextConfig& t, const Section& s) {
  s.agree_int("width", t.width);
  s.agree_int("layers", t.layers);
  s.agree_int("vocab_size", t.vocab_size);
  s.agree_int("context_length", t.max_positions);
  s.agree_int("intermediate_size", t.intermediate);
  if (t.open_clip) {
    s.agree_int("projection_dim", t.projection_dim);
    s.agree_int("embed_dim", t.projection_dim);
  }
  if (auto h = s.get_int("heads")) t.heads = *h;
  if (t.heads == -1)
    s.fail("heads", "must be given: the text width " + std::to_string(t.width) + " is not a multiple of 64");
  if (t.heads <= 0 || t.width % t.heads != 0)
    s.fail("heads", "(" + std::to_string(t.heads) + ") must divide the text width " + std::to_string(t.width));
  if (auto a = s.get_str("hidden_act")) {
    if (*a != "quick_gelu" && *a != "gelu") s.fail("hidden_act", "must be \"quick_gelu\" or \"gelu\"");
    t.hidden_act = *a;
  }
  if (auto e = s.get_num("layer_norm_eps")) t.layer_norm_eps = float(*e);
  if (auto v = s.get_int("pad_token_id")) t.pad_id = *v;
  if (auto v = s.get_int("bos_token_id")) t.bos_id = *v;
  if (auto v = s.get_int("eos_token_id")) t.eos_id = *v;
}

void merge_schedule(ScheduleConfig& c, const Section& s) {
  if (auto v = s.get_int("timesteps")) c.timesteps = *v;
  if (c.timesteps <= 0) s.fail("timesteps", "must be positive");
  if (auto v = s.get_str("beta_schedule")) {
    static const char* kKnown[] = {"linear", "scaled_linear", "cosine", "sqrt_linear", "sqrt"};
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return *v == k; }))
      s.fail("beta_schedule", "\"" + *v + "\" is unknown (linear, scaled_linear, cosine, sqrt_linear, sqrt)");
    c.beta_schedule = *v;
  }
  if (auto v = s.get_num("linear_start")) c.linear_start = *v;
  if (auto v = s.get_num("linear_end")) c.linear_end = *v;
  if (auto v = s.get_str("parameterization")) {
    if (*v != "eps" && *v != "v") s.fail("parameterization", "must be \"eps\" or \"v\", got \"" + *v + "\"");
    c.parameterization = *v;
  }
  if (auto v = s.get_bool("zsnr")) c.zsnr = *v;
}

}  // namespace

namespace {
// Messages name the config file ("__source__", set by find_sidecar_config) when it came from one.
std::string source_of(const nlohmann::json& config, const std::string& ckpt_name) {
  if (config.is_object() && config.contains("__source__") && config["__source__"].is_string())
    return config["__source__"].get<std::string>();
  return "config for " + ckpt_name;
}
// latent_rgb_factors [[r,g,b] x latent channels] and latent_rgb_factors_bias [r,g,b] (previews only).
void merge_latent_rgb(ModelConfig& m, const Section& root) {
  auto numbers = [&](const nlohmann::json& v, const char* key, size_t n) {
    if (!v.is_array() || v.size() != n) root.fail(key, "must be an array of " + std::to_string(n) + " numbers");
    std::vector<float> out;
    for (auto& e : v) {
      if (!e.is_number()) root.fail(key, "must hold numbers, got " + e.dump());
      out.push_back(e.get<float>());
    }
    return out;
  };
  if (const auto* f = root.find("latent_rgb_factors")) {
    if (!f->is_array() || f->size() != size_t(m.unet.in_channels))
      root.fail("latent_rgb_factors", "must hold one [r, g, b] row per latent channel (" +
                                          std::to_string(m.unet.in_channels) + ")");
    m.latent_rgb_factors.clear();
    for (auto& row : *f)
      for (float v : numbers(row, "latent_rgb_factors", 3)) m.latent_rgb_factors.push_back(v);
  }
  if (const auto* b = root.find("latent_rgb_factors_bias")) m.latent_rgb_bias = numbers(*b, "latent_rgb_factors_bias", 3);
}
}  // namespace

// "image_size": a hint (what preparation at load plans), so a form other than a positive number or [h, w]
// of positive integers, multiples of the VAE factor, is ignored rather than refused.
static void merge_image_size(ModelConfig& m, const nlohmann::json* v) {
  if (!v) return;
  int64_t h = 0, w = 0;
  if (v->is_number_integer()) h = w = v->get<int64_t>();
  if (v->is_array() && v->size() == 2 && (*v)[0].is_number_integer() && (*v)[1].is_number_integer())
    h = (*v)[0].get<int64_t>(), w = (*v)[1].get<int64_t>();
  const int64_t f = std::max(m.vae.downsample_factor(), 1);
  if (h <= 0 || w <= 0 || h > 16384 || w > 16384 || h % f || w % f) return;
  m.image_height = int(h), m.image_width = int(w);
}

void merge_config_json(ModelConfig& m, const nlohmann::json& config, const std::string& ckpt_name) {
  const std::string src = source_of(config, ckpt_name);
  const Section root(&config, "", src, ckpt_name);
  const auto at = [&](const char* k) { return Section(root.find(k), k, src, ckpt_name); };
  if (auto f = root.get_str("family")) {
    if (*f != "sd1" && *f != "sd2" && *f != "sdxl" && *f != "sdxl_refiner")
      root.fail("family", "\"" + *f + "\" is unknown (sd1, sd2, sdxl, sdxl_refiner)");
    root.agree("family", f, m.family);
  }
  if (auto k = root.get_str("kind"); k && m.is_sdxl())  // golden configs name SDXL's variant "base" / "refiner"
    root.agree("kind", k, std::string(m.family == "sdxl" ? "base" : "refiner"));
  merge_unet(m.unet, at("unet"));
  merge_vae(m.vae, at("vae"));
  // SDXL: "text_encoders": {"clip_l": {...}, "clip_g": {...}}; SD1/SD2: "text_encoder".
  const Section towers = at("text_encoders");
  if (m.is_sdxl()) {
    if (m.has_text()) merge_text(m.text, towers.sub("clip_l"));
    merge_text(*m.text_g, towers.sub("clip_g"));
  } else {
    merge_text(m.text, at("text_encoder"));
  }
  if (auto p = root.get_str("parameterization")) {
    if (*p != "eps" && *p != "v") root.fail("parameterization", "must be \"eps\" or \"v\", got \"" + *p + "\"");
    m.schedule.parameterization = *p;
  }
  merge_schedule(m.schedule, at("schedule"));
  if (auto f = root.get_num("scale_factor")) m.scale_factor = float(*f);
  merge_latent_rgb(m, root);
  merge_image_size(m, root.find("image_size"));
}

void merge_vae_config_json(ModelConfig& m, const nlohmann::json& config, const std::string& file_name) {
  const std::string src = source_of(config, file_name);
  const Section root(&config, "", src, file_name);
  merge_vae(m.vae, Section(root.find("vae"), "vae", src, file_name));
  if (auto f = root.get_num("scale_factor")) m.scale_factor = float(*f);
  if (!(m.scale_factor > 0)) root.fail("scale_factor", "must be positive");
}

}  // namespace detail

ModelConfig detect_config(const io::SafeTensors& st, const std::optional<nlohmann::json>& config) {
  const std::string file = st.path().filename().string();
  ModelConfig m = detail::detect_from_weights(st);
  // No config: SD1.x defaults fill what shapes cannot tell (8 UNet heads, 64-wide text heads, ...).
  detail::merge_config_json(m, config.value_or(nlohmann::json::object()), file);
  for (size_t l = 0; l < m.unet.channel_mult.size(); ++l) {
    const int ch = m.unet.level_channels(int(l));
    const int h = m.unet.heads_for(ch);
    if (m.unet.has_attention(int(l)) && (h <= 0 || ch % h != 0 || m.unet.head_dim_for(ch) * h != ch))
      throw ModelConfigError(file + ": UNet attention heads (num_heads " + std::to_string(m.unet.num_heads) +
                             ", num_head_channels " + std::to_string(m.unet.num_head_channels) +
                             ") do not divide level width " + std::to_string(ch));
  }
  const auto report = check_tensors(st, required_tensors(m));
  if (!report.ok()) throw ModelConfigError(report.message(file));
  m.unknown_tensors = report.unknown;
  return m;
}

namespace {
bool has_key_prefix(const io::SafeTensors& st, std::string_view prefix) {
  return std::any_of(st.tensors().begin(), st.tensors().end(),
                     [&](const io::StTensorInfo& t) { return t.name.starts_with(prefix); });
}
}  // namespace

std::string detect_vae_prefix(const io::SafeTensors& st) {
  const std::string file = st.path().filename().string();
  if (has_key_prefix(st, kVaePrefix)) return kVaePrefix;
  if (st.find("encoder.conv_in.weight") || st.find("decoder.conv_in.weight")) {
    if (has_key_prefix(st, "decoder.up_blocks."))
      throw ModelConfigError(file + ": diffusers-layout VAE (decoder.up_blocks.*) is not supported; use the "
                                    "single-file layout (decoder.up.*, as in vae-ft-mse-840000-ema-pruned.safetensors)");
    return "";
  }
  throw ModelConfigError(file + ": not a VAE: missing tensor 'decoder.conv_in.weight' (a VAE file has encoder.*, "
                                "decoder.*, quant_conv.*, post_quant_conv.* tensors; a checkpoint has them under '" +
                         std::string(kVaePrefix) + "')");
}

ModelConfig detect_vae_config(const io::SafeTensors& st, const std::string& prefix,
                              const std::optional<nlohmann::json>& config) {
  const std::string file = st.path().filename().string();
  ModelConfig m;
  m.vae = detail::detect_vae_from_weights(st, prefix);
  detail::merge_vae_config_json(m, config.value_or(nlohmann::json::object()), file);
  const auto report = check_tensors(st, vae_required_tensors(m.vae, prefix));
  if (!report.ok()) throw ModelConfigError(report.message(file));
  return m;
}

std::optional<nlohmann::json> find_sidecar_config(const std::filesystem::path& ckpt,
                                                  const std::optional<std::filesystem::path>& explicit_cfg) {
  std::filesystem::path p;
  if (explicit_cfg) {
    p = *explicit_cfg;
    if (!std::filesystem::is_regular_file(p)) throw ModelConfigError(p.string() + ": config file not found");
  } else {
    p = ckpt;
    p.replace_extension(".json");
    if (!std::filesystem::is_regular_file(p)) return std::nullopt;
  }
  std::ifstream f(p);
  if (!f) throw ModelConfigError(p.string() + ": cannot open config file");
  nlohmann::json j;
  try {
    std::stringstream ss;
    ss << f.rdbuf();
    j = io::parse_json_checked(ss.str(), p.filename().string());
  } catch (const io::JsonError& e) {
    throw ModelConfigError(e.what());
  }
  if (!j.is_object()) throw ModelConfigError(p.filename().string() + ": config must be a JSON object");
  j["__source__"] = p.filename().string();
  return j;
}

nlohmann::json to_json(const ModelConfig& c) {
  const auto& u = c.unet;
  const auto& v = c.vae;
  const auto& t = c.text;
  const auto& s = c.schedule;
  return {
      {"family", c.family},
      {"unet",
       {{"in_channels", u.in_channels}, {"out_channels", u.out_channels}, {"model_channels", u.model_channels},
        {"channel_mult", u.channel_mult}, {"num_res_blocks", u.num_res_blocks},
        {"attention_resolutions", u.attention_resolutions}, {"num_heads", u.num_heads},
        {"num_head_channels", u.num_head_channels}, {"transformer_depth", u.transformer_depth},
        {"transformer_depth_middle", u.transformer_depth_middle}, {"context_dim", u.context_dim},
        {"use_linear_in_transformer", u.use_linear_in_transformer}, {"time_embed_dim", u.time_embed_dim}}},
      {"vae",
       {{"embed_dim", v.embed_dim},
        {"ddconfig",
         {{"ch", v.ch}, {"ch_mult", v.ch_mult}, {"num_res_blocks", v.num_res_blocks}, {"z_channels", v.z_channels},
          {"in_channels", v.in_channels}, {"out_ch", v.out_ch}, {"double_z", true},
          {"attn_resolutions", nlohmann::json::array()}}},
        {"mid_attn", v.mid_attn}, {"downsample_factor", v.downsample_factor()}}},
      {"text_encoder",
       {{"width", t.width}, {"layers", t.layers}, {"heads", t.heads}, {"vocab_size", t.vocab_size},
        {"context_length", t.max_positions}, {"intermediate_size", t.intermediate}, {"hidden_act", t.hidden_act},
        {"layer_norm_eps", t.layer_norm_eps}, {"pad_token_id", t.pad_id}, {"bos_token_id", t.bos_id},
        {"eos_token_id", t.eos_id}}},
      {"schedule",
       {{"timesteps", s.timesteps}, {"beta_schedule", s.beta_schedule}, {"linear_start", s.linear_start},
        {"linear_end", s.linear_end}, {"parameterization", s.parameterization}, {"zsnr", s.zsnr}}},
      {"scale_factor", c.scale_factor},
  };
}

}  // namespace vkf::models
