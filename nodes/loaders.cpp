// Loader nodes: CheckpointLoaderSimple (ckpt -> MODEL, CLIP, VAE).
#include <filesystem>

#include "engine/graph/registry.h"
#include "engine/models/checkpoint.h"
#include "engine/sampling/model_sampling.h"
#include "engine/text/clip_tokenizer.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;
namespace fs = std::filesystem;

// ComfyUI-style lookup: <models-dir>/checkpoints/<name>, or an absolute path.
fs::path resolve_checkpoint(const NodeContext& ctx, const std::string& name) {
  fs::path p(name);
  if (p.is_absolute()) return p;
  fs::path in_dir = ctx.paths().models_dir / "checkpoints" / p;
  if (fs::exists(in_dir)) return in_dir;
  throw std::runtime_error("checkpoint '" + name + "' not found (looked in " + (ctx.paths().models_dir / "checkpoints").string() +
                           "; pass --models-dir or an absolute path)");
}

sampling::DiscreteConfig discrete_config(const models::ScheduleConfig& s) {
  sampling::DiscreteConfig d;
  d.beta_schedule = s.beta_schedule;
  d.linear_start = s.linear_start;
  d.linear_end = s.linear_end;
  d.timesteps = s.timesteps;
  return d;
}

NodeRegistrar checkpoint_loader(
    NodeDef("CheckpointLoaderSimple")
        .display("Load Checkpoint")
        .category("loaders")
        .description("Loads a .safetensors SD1.x-family checkpoint: UNet (MODEL), text encoder (CLIP), VAE.")
        .input_string("ckpt_name", "")
        .tooltip("file in <models-dir>/checkpoints, or an absolute path; a <name>.json config next to it is used")
        .output("MODEL")
        .output("CLIP")
        .output("VAE")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto path = resolve_checkpoint(ctx, in.get_string("ckpt_name"));
          models::LoadOptions lo;
          if (auto w = ctx.services().find_raw(kWeightsDtypeService))
            lo.dtype = *static_cast<const std::string*>(w.get()) == "f16" ? DType::F16 : DType::F32;
          auto ck = models::load_checkpoint(gpu(ctx), path, lo);
          auto pred = ck->config.schedule.parameterization == "v" ? sampling::Prediction::VPrediction : sampling::Prediction::Eps;
          auto ms = std::make_shared<sampling::ModelSampling>(
              sampling::ModelSampling::discrete(pred, discrete_config(ck->config.schedule)));
          std::optional<fs::path> flag;
          if (auto v = ctx.services().find_raw(kClipVocabService)) flag = fs::path(*static_cast<const std::string*>(v.get()));
          auto tok = std::make_shared<text::ClipTokenizer>(
              text::ClipTokenizer::from_file(text::find_clip_vocab(flag, ctx.paths().models_dir, path)));
          size_t bytes = size_t(ck->weights->bytes());
          return {make_value("MODEL", Model{ck, ms}, bytes), make_value("CLIP", Clip{ck, tok, -1}),
                  make_value("VAE", Vae{ck})};
        }));

}  // namespace
}  // namespace vkf::nodes
