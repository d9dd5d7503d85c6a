// `vkflow eval text|unet|vae-decode|vae-encode`: runs one network on inputs from a safetensors file
// (golden key names) and writes its outputs under the golden key names — numerics against references.
#include <cmath>
#include <optional>
#include <iostream>

#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/eval_tasks.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_writer.h"
#include "engine/models/checkpoint.h"
#include "engine/models/sdxl_conditioner.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::cli {
namespace {

const char* kHelp =
    "usage: vkflow eval text|text-l|text-g|conditioner|unet|vae-decode|vae-encode --checkpoint CK [--config CFG]\n"
    "                   --inputs IN.safetensors --output OUT.safetensors [--precision f32|f16] [--device N]\n"
    "                   (conditioner: [--ids-l L.safetensors] --ids-g G.safetensors)\n"
    "       vkflow eval sampler --case CASE.safetensors --output OUT.safetensors\n"
    "       vkflow eval noise --seed S --shape 1,4,64,64 --output OUT.safetensors\n\n"
    "Runs one network (or sampler / noise generator) and writes its outputs under the reference key names:\n"
    "  text        SD1/SD2 tower: input_ids [B,77] I64 -> hidden_states.N, last_hidden_state, penultimate_hidden_state,\n"
    "              penultimate_hidden_state_ln, pooled; SD2 also cond (penultimate + ln_final), last_hidden_state_ln\n"
    "  text-l      SDXL CLIP-L: input_ids -> hidden_states.N, penultimate (no final LN), last_hidden_state, pooler_output\n"
    "  text-g      SDXL OpenCLIP-G: input_ids -> hidden_states.N, penultimate (no ln_final), last_hidden_state_ln, pooled\n"
    "  conditioner SDXL: ids (input_ids of --ids-l / --ids-g) + original_size_as_tuple, crop_coords_top_left,\n"
    "              target_size_as_tuple | aesthetic_score -> crossattn, vector, uc_crossattn, uc_vector, emb.*\n"
    "  unet        x, timesteps (I64), context [, y when the model has a vector input] -> eps or v (parameterization)\n"
    "  vae-decode  z (raw VAE latent) -> image\n"
    "  vae-encode  image in [-1,1] -> mean, logvar\n"
    "Precision defaults to f32 (exact comparisons); f16 stores weights and activations in half precision.\n";

std::vector<float> download(vk::Context& ctx, const Tensor& t) { return to_host(ctx, t); }

// Non-finite outputs are an error rather than a file full of NaN: a comparison against references
// would only fail later and less clearly (NaN/Inf inputs or weights end up here too).
void put(io::SafeTensorsWriter& w, vk::Context& ctx, const std::string& name, const Tensor& t) {
  auto v = download(ctx, t);
  size_t bad = 0;
  for (float x : v) bad += !std::isfinite(x);
  if (bad)
    throw std::runtime_error("output '" + name + "' contains NaN/Inf (" + std::to_string(bad) + " of " +
                             std::to_string(v.size()) + " values); check the inputs and checkpoint; nothing written");
  w.add_f32(name, t.shape(), v);
}

Tensor input_f32(vk::Context& ctx, const io::SafeTensors& in, const std::string& name, DType dt) {
  const auto& info = in.at(name);
  auto v = in.to_f32(info);
  return from_host(ctx, Shape(info.shape.begin(), info.shape.end()), v, dt);
}

std::vector<int32_t> ids_of(const io::SafeTensors& in, const io::StTensorInfo& info) {
  if (info.shape.size() != 2) throw UsageError("input_ids must be [B, T], got " + io::shape_str(info.shape));
  const auto ids64 = in.to_i64(info);
  return std::vector<int32_t>(ids64.begin(), ids64.end());
}

// The size values of each embedder, per batch element in embedder order (pairs are (height, width) and
// (top, left), as the reference's *_as_tuple / crop_coords_top_left).
std::vector<std::string> embedder_keys(const models::ModelConfig& c) {
  if (c.family == "sdxl") return {"original_size_as_tuple", "crop_coords_top_left", "target_size_as_tuple"};
  return {"original_size_as_tuple", "crop_coords_top_left", "aesthetic_score"};
}

void eval_conditioner(const models::Checkpoint& ck, const Args& a, const io::SafeTensors& in, io::SafeTensorsWriter& w,
                      vk::Recorder& rec) {
  auto& ctx = rec.context();
  if (!ck.config.is_sdxl() || !ck.text_g) throw UsageError("eval conditioner needs an SDXL checkpoint, got " + ck.config.family);
  const auto ids_file = [&](const char* opt) {
    auto st = io::SafeTensors::open(a.require(opt));
    const auto& info = st.at("input_ids");
    return std::pair{ids_of(st, info), info.shape.at(0)};
  };
  const auto [ids_g, B] = ids_file("ids-g");
  auto g = ck.text_g->forward(rec, ids_g, B);
  std::optional<models::TextOutputs> l;
  if (ck.text) {
    const auto [ids_l, Bl] = ids_file("ids-l");
    if (Bl != B) throw UsageError("--ids-l and --ids-g hold different batch sizes");
    l = ck.text->forward(rec, ids_l, B);
  }
  Tensor cross = models::sdxl_crossattn(rec, l ? &l->penultimate_hidden_state : nullptr, g.penultimate_hidden_state);
  std::vector<float> scalars;
  std::vector<std::vector<float>> parts;
  for (const auto& k : embedder_keys(ck.config)) parts.push_back(in.to_f32(in.at(k)));
  for (int64_t b = 0; b < B; ++b)
    for (const auto& p : parts) {
      const size_t n = p.size() / size_t(B);
      for (size_t i = 0; i < n; ++i) scalars.push_back(p[size_t(b) * n + i]);
    }
  Tensor vec = models::sdxl_vector(rec, g.pooled, scalars);
  // Unconditional (sgm force_uc_zero_embeddings=["txt"]): text parts zero, size parts as for cond.
  Tensor zero_pooled = from_host(ctx, g.pooled.shape(), std::vector<float>(size_t(g.pooled.numel()), 0.f), g.pooled.dtype());
  Tensor uc_vec = models::sdxl_vector(rec, zero_pooled, scalars);
  rec.submit();
  put(w, ctx, "crossattn", cross);
  put(w, ctx, "vector", vec);
  w.add_f32("uc_crossattn", cross.shape(), std::vector<float>(size_t(cross.numel()), 0.f));
  put(w, ctx, "uc_vector", uc_vec);
  // Each embedder's part of the vector, under emb.<key>.
  const auto v = to_host(ctx, vec);
  const int64_t V = vec.dim(1);
  int64_t col = g.pooled.dim(1);
  for (size_t k = 0; k < parts.size(); ++k) {
    const int64_t width = int64_t(parts[k].size() / size_t(B)) * models::kSdxlSizeEmbedDim;
    std::vector<float> e;
    for (int64_t b = 0; b < B; ++b) e.insert(e.end(), v.begin() + b * V + col, v.begin() + b * V + col + width);
    w.add_f32("emb." + embedder_keys(ck.config)[k], {B, width}, e);
    col += width;
  }
}

int run_model_eval(const std::string& what, const Args& a) {
  vk::ContextOptions co;
  co.device = a.get_int("device", -1);
  vk::Context ctx(co);
  models::LoadOptions lo;
  if (auto c = a.get("config")) lo.config = *c;
  std::string prec = a.get("precision").value_or("f32");
  if (prec != "f32" && prec != "f16") throw UsageError("--precision must be f32 or f16");
  lo.dtype = prec == "f16" ? DType::F16 : DType::F32;
  lo.text = what == "text" || what == "text-l" || what == "text-g" || what == "conditioner";
  lo.unet = what == "unet";
  lo.vae = what == "vae-decode" || what == "vae-encode";
  auto ck = models::load_checkpoint(ctx, a.require("checkpoint"), lo);
  auto in = io::SafeTensors::open(a.require("inputs"));
  io::SafeTensorsWriter w;
  vk::Recorder rec(ctx);
  const DType dt = ck->dtype;
  if (what == "text" || what == "text-l" || what == "text-g") {
    const models::ClipTextEncoder* enc = what == "text-g" ? ck->text_g.get() : ck->text.get();
    const bool sdxl = ck->config.is_sdxl();
    if (!enc || (what == "text") == sdxl)
      throw UsageError("eval " + what + ": checkpoint family " + ck->config.family + " has no such text tower (" +
                       (sdxl ? "use text-l / text-g" : "use text") + ")");
    const auto& info = in.at("input_ids");
    const auto ids = ids_of(in, info);
    auto out = enc->forward(rec, ids, info.shape.at(0));
    rec.submit();
    const bool oc = enc->config().open_clip;
    const bool sd1 = what == "text" && !oc;  // SD1 keeps the sd1_tiny_a golden's key set
    if (!sd1)
      for (size_t i = 0; i < out.hidden.size(); ++i) put(w, ctx, "hidden_states." + std::to_string(i), out.hidden[i]);
    put(w, ctx, oc ? "last_hidden_state_ln" : "last_hidden_state", out.last_hidden_state);
    if (!sd1) put(w, ctx, oc ? "pooled" : "pooler_output", out.pooled);
    if (out.penultimate_hidden_state.defined()) {
      if (what == "text") {
        if (oc) {
          put(w, ctx, "cond", out.penultimate_hidden_state_ln);  // FrozenOpenCLIPEmbedder(penultimate)
        } else {
          put(w, ctx, "penultimate_hidden_state", out.penultimate_hidden_state);
          put(w, ctx, "penultimate_hidden_state_ln", out.penultimate_hidden_state_ln);
        }
      } else {
        put(w, ctx, "penultimate", out.penultimate_hidden_state);
      }
    }
  } else if (what == "conditioner") {
    eval_conditioner(*ck, a, in, w, rec);
  } else if (what == "unet") {
    Tensor x = input_f32(ctx, in, "x", dt);
    Tensor c = input_f32(ctx, in, "context", dt);
    auto ts = in.to_f32(in.at("timesteps"));
    Tensor y;
    if (ck->config.unet.adm_in_channels > 0) y = input_f32(ctx, in, "y", dt);
    Tensor out = ck->unet->forward(rec, x, ts, c, nullptr, y.defined() ? &y : nullptr);
    rec.submit();
    put(w, ctx, ck->config.schedule.parameterization == "v" ? "v" : "eps", out);
  } else if (what == "vae-decode") {
    Tensor z = input_f32(ctx, in, "z", dt);
    Tensor img = ck->vae->decode(rec, z);
    rec.submit();
    put(w, ctx, "image", img);
  } else {
    Tensor img = input_f32(ctx, in, "image", dt);
    auto p = ck->vae->encode(rec, img);
    rec.submit();
    put(w, ctx, "mean", p.mean);
    put(w, ctx, "logvar", p.logvar);
  }
  w.write(a.require("output"));
  return kExitOk;
}

int run_eval(std::vector<std::string> argv) {
  Args a(argv, {"checkpoint", "config", "inputs", "output", "precision", "device", "case", "seed", "shape", "ids-l", "ids-g"}, {"help"});
  if (a.flag("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (a.positional().size() != 1)
    throw UsageError("expected one of text|text-l|text-g|conditioner|unet|vae-decode|vae-encode|sampler|noise");
  const std::string what = a.positional()[0];
  for (const char* m : {"text", "text-l", "text-g", "conditioner", "unet", "vae-decode", "vae-encode"})
    if (what == m) return run_model_eval(what, a);
  for (auto& t : eval_tasks())
    if (t.name == what) return t.run(a);
  throw UsageError("unknown eval target '" + what + "'");
}

Registrar reg({"eval", "run one network/sampler on reference inputs and write its outputs", run_eval});

}  // namespace
}  // namespace vkf::cli
