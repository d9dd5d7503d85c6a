// `vkflow bench <what>`: performance measurements. Subcommands live in a small table; `ops` is the kernel
// micro-benchmark (engine/bench/ops_bench.h); model-level ones (unet, text, vae-decode) join the table.
#include <iostream>

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

const Sub kSubs[] = {
    {"ops", "FMA ceiling, GEMM 1024^3 f32/f16, conv2d 3x3 320->320 @64x64", bench_ops},
};

void usage(std::ostream& o) {
  o << "usage: vkflow bench <what> [--device N] [--repeat N] [--quick] [--only NAME]\n\n";
  for (auto& s : kSubs) o << "  " << s.name << "    " << s.summary << "\n";
  o << "\noptions:\n  --device N   Vulkan device index (see 'vkflow devices')\n"
       "  --repeat N   timed runs per case, median reported (default 5)\n"
       "  --quick      smaller sizes (smoke test)\n"
       "  --only NAME  run only the cases whose name contains NAME (e.g. gemm)\n";
}

int run_bench(std::vector<std::string> argv) {
  Args args(argv, {"device", "repeat", "only"}, {"quick", "help"});
  if (args.flag("help")) {
    usage(std::cout);
    return kExitOk;
  }
  if (args.positional().size() != 1) throw UsageError("expected one benchmark name");
  for (auto& s : kSubs)
    if (args.positional()[0] == s.name) return s.run(args);
  throw UsageError("unknown benchmark '" + args.positional()[0] + "'");
}

Registrar reg({"bench", "performance benchmarks (vkflow bench ops)", run_bench});

}  // namespace
}  // namespace vkf::cli
