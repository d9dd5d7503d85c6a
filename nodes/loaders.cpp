// Loader nodes: CheckpointLoaderSimple (ckpt -> MODEL, CLIP, VAE), VAELoader (VAE file -> VAE). Files are
// looked up ComfyUI-style in <models-dir>/checkpoints, <models-dir>/vae (engine/models/model_paths.h); the
// names are COMBO file lists, so validation refuses a file that is not there before anything runs.
// Both prepare the loaded networks' pipelines (engine/models/prepare.h: built, and on lavapipe compiled, at
// load rather than at the first dispatch of the first image; VKFLOW_PREPARE=0 turns that off).
#include <cstdio>
#include <filesystem>

#include "engine/graph/registry.h"
#include "engine/models/checkpoint.h"
#include "engine/models/sd_layout.h"
#include "engine/models/model_paths.h"
#include "engine/models/prepare.h"
#include "engine/sampling/model_sampling.h"
#include "engine/text/clip_tokenizer.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;
namespace fs = std::filesystem;

// The compute dtype the run asks for (`--precision`), else the device default.
models::LoadOptions load_options(const NodeContext& ctx) {
  models::LoadOptions lo;
  if (auto w = ctx.services().find_raw(kWeightsDtypeService))
    lo.dtype = *static_cast<const std::string*>(w.get()) == "f16" ? DType::F16 : DType::F32;
  return lo;
}

sampling::DiscreteConfig discrete_config(const models::ScheduleConfig& s) {
  sampling::DiscreteConfig d;
  d.beta_schedule = s.beta_schedule;
  d.linear_start = s.linear_start;
  d.linear_end = s.linear_end;
  d.timesteps = s.timesteps;
  d.zsnr = s.zsnr;
  return d;
}

NodeRegistrar checkpoint_loader(
    NodeDef("CheckpointLoaderSimple")
        .display("Load Checkpoint")
        .category("loaders")
        .description("Loads a .safetensors SD1.x, SD2.x or SDXL (base or refiner) checkpoint: UNet (MODEL), text encoder(s) (CLIP: CLIP-L + OpenCLIP-G for SDXL, OpenCLIP-G for the refiner), VAE.")
        .input_files("ckpt_name", FileSource::models("checkpoints"))
        .tooltip("file in <models-dir>/checkpoints, or an absolute path; a <name>.json config next to it is used")
        .output("MODEL")
        .output("CLIP")
        .output("VAE")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto path = models::resolve_model_file(ctx.paths().models_dir, "checkpoints", in.get_string("ckpt_name"));
          auto ck = models::load_checkpoint(gpu(ctx), path, load_options(ctx));
          if (!ck->config.unknown_tensors.empty())  // as ComfyUI logs its "left over keys"
            std::fprintf(stderr, "vkflow: note: %s\n",
                         models::unknown_tensors_message(path.filename().string(), ck->config.unknown_tensors).c_str());
          models::prepare_checkpoint(gpu(ctx), *ck);
          auto pred = ck->config.schedule.parameterization == "v" ? sampling::Prediction::VPrediction : sampling::Prediction::Eps;
          auto ms = std::make_shared<sampling::ModelSampling>(
              sampling::ModelSampling::discrete(pred, discrete_config(ck->config.schedule)));
          std::optional<fs::path> flag;
          if (auto v = ctx.services().find_raw(kClipVocabService)) flag = fs::path(*static_cast<const std::string*>(v.get()));
          auto tok = std::make_shared<text::ClipTokenizer>(
              text::ClipTokenizer::from_file(text::find_clip_vocab(flag, ctx.paths().models_dir, path)));
          size_t bytes = size_t(ck->weights->bytes());
          return {make_value("MODEL", Model{ck, ms}, bytes), make_value("CLIP", Clip{ck, tok, 0}),
                  make_value("VAE", Vae{ck})};
        }));

NodeRegistrar vae_loader(
    NodeDef("VAELoader")
        .display("Load VAE")
        .category("loaders")
        .description("Loads the VAE of a standalone VAE .safetensors file (e.g. vae-ft-mse-840000-ema-pruned) or of a "
                     "full SD1.x checkpoint, to use instead of a checkpoint's own.")
        .input_files("vae_name", FileSource::models("vae"))
        .tooltip("file in <models-dir>/vae, or an absolute path; a <name>.json next to it may give scale_factor "
                 "(default 0.18215, SD1.x)")
        .output("VAE")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto path = models::resolve_model_file(ctx.paths().models_dir, "vae", in.get_string("vae_name"));
          auto ck = models::load_vae(gpu(ctx), path, load_options(ctx));
          models::prepare_checkpoint(gpu(ctx), *ck);
          const size_t bytes = size_t(ck->weights->bytes());
          return {make_value("VAE", Vae{ck}, bytes)};
        }));

}  // namespace
}  // namespace vkf::nodes
