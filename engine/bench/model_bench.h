// `vkflow bench unet|text|vae-decode`: whole-network benchmarks. Each evaluation is recorded into one
// command buffer and submitted once (as the samplers do); reported: median wall time per evaluation,
// GPU time and the top ops from a profiled run, analytic GFLOP/s (model_flops.h) against the FMA
// ceiling, dispatch/submit counts, weight bytes and peak live device memory (allocator stats).
#pragma once
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "engine/tensor/tensor.h"
#include "engine/vk/context.h"

namespace vkf::bench {

struct ModelBenchOptions {
  // a .safetensors path, or <model>-random: random weights in the layout of manifest_<file>.json, model
  // sd15, sd21, sdxl (manifest_sdxl_base), sdxl_refiner (manifest_sdxl_refiner)
  std::string checkpoint = "sd15-random";
  std::optional<std::filesystem::path> config;    // config sidecar for a real checkpoint
  std::optional<std::filesystem::path> manifest;  // layout manifest for <model>-random
  int size = 256;      // image side in pixels (unet, vae-decode); the latent is size / VAE factor
  int batch = 0;       // 0: unet 2 (cond + uncond, as CFG evaluates), text 1, vae-decode 1
  int tokens = 77;     // text sequence length (unet context length)
  DType dtype = DType::F32;
  int repeat = 3;      // timed evaluations (after one warm-up), median reported
  uint64_t seed = 1;   // random weights / inputs
  int top = 10;        // ops listed from the profiled run
  bool ceiling = true; // also run the FMA ceiling to report the fraction reached
  int tile = 0;        // vae-decode: > 0 decodes in tiles of this many pixels (as VAEDecodeTiled), one submit each
  int overlap = 64;    // vae-decode tile overlap in pixels
};

// what: "unet", "text" or "vae-decode". Prints a report to `out`; throws on bad options/checkpoints.
void run_model_bench(vk::Context& ctx, const std::string& what, const ModelBenchOptions& opt, std::ostream& out);

}  // namespace vkf::bench
