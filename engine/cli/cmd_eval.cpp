// `vkflow eval text|unet|vae-decode|vae-encode`: runs one network on inputs from a safetensors file
// (golden key names) and writes its outputs under the golden key names — numerics against references.
#include <cmath>
#include <iostream>

#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/eval_tasks.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_writer.h"
#include "engine/models/checkpoint.h"
#include "engine/vk/context.h"
#include "engine/vk/recorder.h"

namespace vkf::cli {
namespace {

const char* kHelp =
    "usage: vkflow eval text|unet|vae-decode|vae-encode --checkpoint CK [--config CFG] --inputs IN.safetensors\n"
    "                   --output OUT.safetensors [--precision f32|f16] [--device N]\n"
    "       vkflow eval sampler --case CASE.safetensors --output OUT.safetensors\n"
    "       vkflow eval noise --seed S --shape 1,4,64,64 --output OUT.safetensors\n\n"
    "Runs one network (or sampler / noise generator) and writes its outputs under the reference key names:\n"
    "  text        input_ids [B,77] I64 -> last_hidden_state, penultimate_hidden_state, penultimate_hidden_state_ln\n"
    "  unet        x, timesteps (I64), context -> eps\n"
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

int run_model_eval(const std::string& what, const Args& a) {
  vk::ContextOptions co;
  co.device = a.get_int("device", -1);
  vk::Context ctx(co);
  models::LoadOptions lo;
  if (auto c = a.get("config")) lo.config = *c;
  std::string prec = a.get("precision").value_or("f32");
  if (prec != "f32" && prec != "f16") throw UsageError("--precision must be f32 or f16");
  lo.dtype = prec == "f16" ? DType::F16 : DType::F32;
  lo.text = what == "text";
  lo.unet = what == "unet";
  lo.vae = what == "vae-decode" || what == "vae-encode";
  auto ck = models::load_checkpoint(ctx, a.require("checkpoint"), lo);
  auto in = io::SafeTensors::open(a.require("inputs"));
  io::SafeTensorsWriter w;
  vk::Recorder rec(ctx);
  const DType dt = ck->dtype;
  if (what == "text") {
    const auto& info = in.at("input_ids");
    auto ids64 = in.to_i64(info);
    std::vector<int32_t> ids(ids64.begin(), ids64.end());
    auto out = ck->text->forward(rec, ids, info.shape.at(0));
    rec.submit();
    put(w, ctx, "last_hidden_state", out.last_hidden_state);
    if (out.penultimate_hidden_state.defined()) {
      put(w, ctx, "penultimate_hidden_state", out.penultimate_hidden_state);
      put(w, ctx, "penultimate_hidden_state_ln", out.penultimate_hidden_state_ln);
    }
  } else if (what == "unet") {
    Tensor x = input_f32(ctx, in, "x", dt);
    Tensor c = input_f32(ctx, in, "context", dt);
    auto ts = in.to_f32(in.at("timesteps"));
    Tensor eps = ck->unet->forward(rec, x, ts, c);
    rec.submit();
    put(w, ctx, "eps", eps);
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
  Args a(argv, {"checkpoint", "config", "inputs", "output", "precision", "device", "case", "seed", "shape"}, {"help"});
  if (a.flag("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (a.positional().size() != 1) throw UsageError("expected one of text|unet|vae-decode|vae-encode|sampler|noise");
  const std::string what = a.positional()[0];
  if (what == "text" || what == "unet" || what == "vae-decode" || what == "vae-encode") return run_model_eval(what, a);
  for (auto& t : eval_tasks())
    if (t.name == what) return t.run(a);
  throw UsageError("unknown eval target '" + what + "'");
}

Registrar reg({"eval", "run one network/sampler on reference inputs and write its outputs", run_eval});

}  // namespace
}  // namespace vkf::cli
