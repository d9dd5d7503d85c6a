// `vkflow bench <what>`: performance measurements. Subcommands live in a small table; `ops` is the kernel
// micro-benchmark (engine/bench/ops_bench.h); model-level ones (unet, text, vae-decode) join the table.
#include <iomanip>
#include <iostream>

#include "engine/bench/model_bench.h"
#include "engine/bench/ops_bench.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/vk/context.h"

namespace vkf::cli {
namespace {

struct Sub {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

int bench_ops(const Args& args) {
  bench::Options opt;
  opt.repeat = args.get_int("repeat", 5);
  opt.quick = args.flag("quick");
  opt.only = args.get("only").value_or("");
  if (opt.repeat < 1) throw UsageError("--repeat must be >= 1");
  vk::ContextOptions co;
  co.device = args.get_int("device", -1);
  vk::Context ctx(co);
  return bench::run_ops(ctx, opt, std::cout) ? kExitOk : kExitFailure;
}

int bench_model(const std::string& what, const Args& args) {
  bench::ModelBenchOptions opt;
  opt.checkpoint = args.get("checkpoint").value_or(opt.checkpoint);
  if (auto m = args.get("model")) {
    if (args.get("checkpoint")) throw UsageError("--model and --checkpoint exclude each other");
    opt.checkpoint = *m + "-random";
  }
  if (auto c = args.get("config")) opt.config = *c;
  if (auto m = args.get("manifest")) opt.manifest = *m;
  opt.size = args.get_int("size", opt.size);
  opt.batch = args.get_int("batch", opt.batch);
  opt.tokens = args.get_int("tokens", opt.tokens);
  opt.repeat = args.get_int("repeat", opt.repeat);
  opt.seed = uint64_t(args.get_int("seed", int(opt.seed)));
  opt.top = args.get_int("top", opt.top);
  opt.ceiling = !args.flag("no-ceiling");
  opt.tile = args.get_int("tile", 0);
  opt.overlap = args.get_int("overlap", opt.overlap);
  if ((opt.tile || args.get("overlap")) && what != "vae-decode") throw UsageError("--tile/--overlap apply to vae-decode only");
  const std::string prec = args.get("precision").value_or("f32");
  if (prec != "f32" && prec != "f16") throw UsageError("--precision must be f32 or f16");
  opt.dtype = prec == "f16" ? DType::F16 : DType::F32;
  if (opt.repeat < 0) throw UsageError("--repeat must be >= 0");
  if (opt.batch < 0 || opt.tokens < 1 || opt.size < 1) throw UsageError("--batch, --tokens and --size must be positive");
  vk::ContextOptions co;
  co.device = args.get_int("device", -1);
  co.pipeline_cache_dir = args.get("pipeline-cache").value_or("");
  vk::Context ctx(co);
  bench::run_model_bench(ctx, what, opt, std::cout);
  return kExitOk;
}
int bench_unet(const Args& args) { return bench_model("unet", args); }
int bench_text(const Args& args) { return bench_model("text", args); }
int bench_vae_decode(const Args& args) { return bench_model("vae-decode", args); }

const Sub kSubs[] = {
    {"ops", "FMA ceiling, GEMM 1024^3 f32/f16, conv2d 3x3 320->320 @64x64", bench_ops},
    {"unet", "one UNet evaluation (default: SD1.5 layout, random weights, 256x256, batch 2)", bench_unet},
    {"text", "CLIP text encoder, 77 tokens (default batch 1)", bench_text},
    {"vae-decode", "VAE decoder, latent size/8 (default batch 1)", bench_vae_decode},
};

void usage(std::ostream& o) {
  o << "usage: vkflow bench ops [--device N] [--repeat N] [--quick] [--only NAME]\n"
       "       vkflow bench unet|text|vae-decode [--model M | --checkpoint CK] [--config CFG] [--manifest M]\n"
       "                    [--size PX] [--batch B] [--precision f32|f16] [--repeat N] [--device N]\n"
       "                    [--pipeline-cache DIR]\n\n";
  for (auto& s : kSubs) o << "  " << std::left << std::setw(12) << s.name << s.summary << "\n";
  o << "\noptions:\n  --device N   Vulkan device index (see 'vkflow devices')\n"
       "  --repeat N   timed runs per case, median reported (default 5)\n"
       "  --quick      smaller sizes (smoke test)\n"
       "  --only NAME  run only the cases whose name contains NAME (e.g. gemm)\n"
       "model benchmarks (unet, text, vae-decode; --repeat defaults to 3):\n"
       "  --model M         sd15 (default), sd21, sdxl, sdxl_refiner: the full-size layout of the real checkpoint with\n"
       "                    seeded random weights, from --manifest (default ../shared/golden/manifest_<sd15|sd21|\n"
       "                    sdxl_base|sdxl_refiner>.json); same as --checkpoint M-random\n"
       "  --checkpoint CK   a .safetensors checkpoint\n"
       "  --size PX         image side in pixels, latent = PX/8 (default 256)\n"
       "  --batch B         unet default 2 (cond + uncond as CFG), text/vae-decode default 1\n"
       "  --precision P     f32 (default) or f16 weights and activations\n"
       "  --tokens T        text / context length (default 77); --seed S; --top N ops listed (10)\n"
       "  --repeat 0        report only the first evaluation (pipeline creation included), no profiled run\n"
       "  --no-ceiling      skip the FMA-ceiling run\n"
       "  --pipeline-cache DIR  where the Vulkan pipeline cache file lives (default $VKFLOW_PIPELINE_CACHE_DIR,\n"
       "                    else $XDG_CACHE_HOME/vkflow or ~/.cache/vkflow)\n"
       "  --tile PX         vae-decode in tiles of PX pixels, one submit each, as VAEDecodeTiled (default: whole)\n"
       "  --overlap PX      tile overlap in pixels (default 64)\n"
       "environment: VKFLOW_KERNELS=cpu|gpu benchmarks the other kernel family on this device\n";
}

int run_bench(std::vector<std::string> argv) {
  Args args(argv,
            {"device", "repeat", "only", "checkpoint", "model", "config", "manifest", "size", "batch", "precision", "tokens", "seed",
             "top", "tile", "overlap", "pipeline-cache"},
            {"quick", "help", "no-ceiling"});
  if (args.flag("help")) {
    usage(std::cout);
    return kExitOk;
  }
  if (args.positional().size() != 1) throw UsageError("expected one benchmark name");
  for (auto& s : kSubs)
    if (args.positional()[0] == s.name) return s.run(args);
  throw UsageError("unknown benchmark '" + args.positional()[0] + "'");
}

Registrar reg({"bench", "performance benchmarks (vkflow bench ops|unet|text|vae-decode)", run_bench});

}  // namespace
}  // namespace vkf::cli
