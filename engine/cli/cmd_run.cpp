// `vkflow run GRAPH.json`: validate, then execute a ComfyUI API-format graph; prints saved image paths.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "engine/cli/command.h"
#include "engine/vk/context.h"
#include "engine/cli/graph_args.h"
#include "engine/cli/progress.h"
#include "engine/graph/executor.h"
#include "engine/graph/memory_plan.h"
#include "engine/vk/planned_device.h"
#include "engine/graph/services.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow run GRAPH.json|IMAGE.png [options]\n\n"
    "Runs a ComfyUI API-format graph ({\"<id>\": {\"class_type\", \"inputs\"}} or {\"prompt\": {...}}), a ComfyUI\n"
    "UI workflow ({\"nodes\", \"links\"}), or the graph a vkflow/ComfyUI PNG carries.\n"
    "Only output nodes and their ancestors run. Progress goes to stderr, saved files to stdout.\n\n"
    "options:\n"
    "  --set ID.INPUT=VALUE  override an input of node ID; VALUE is JSON when it parses (42, 7.5, true,\n"
    "                        [\"4\", 0]), else a string. Repeatable.\n"
    "  --output-dir DIR      where output nodes write images (default: output)\n"
    "  --models-dir DIR      where loaders look for models (default: models)\n"
    "  --input-dir DIR       where LoadImage looks (default: input)\n"
    "  --temp-dir DIR        where PreviewImage writes (default: $TMPDIR/vkflow or /tmp/vkflow)\n"
    "  --device N            GPU index (default: VKFLOW_DEVICE or the best device)\n"
    "  --weights f32|f16     weight/activation precision for loaded models (default: f16 on GPUs with\n"
    "                        16-bit storage, f32 on CPU devices such as lavapipe)\n"
    "  --clip-vocab FILE     CLIP BPE vocabulary for checkpoints that do not ship one\n"
    "  --profile             print per-node timings and GPU time per op at the end\n"
    "  --quiet               no progress output\n"
    "  --no-cache            do not cache node outputs\n"
    "  --max-image-pixels N  LoadImage refuses images with more pixels, read from the header before\n"
    "                        decoding (default: 33554432)\n"
    "  --allow-nonfinite     accept NaN/Inf latents and images (default: the node fails naming the step)\n"
    "  --skip-memory-check   run even when the planned device memory (weights + the largest node's working\n"
    "                        set, estimated before running) exceeds the device heap (default: exit 2)\n\n"
    "exit status: 0 success, 2 invalid graph or arguments, 1 failure while running\n";

std::atomic<bool> g_cancel{false};

extern "C" void on_sigint(int) {
  g_cancel.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// GPU time per op label, from timestamp queries around every dispatch (largest first).
void print_gpu_profile(const vk::Context& ctx) {
  auto p = ctx.profile();
  double total = 0;
  for (auto& e : p) total += e.ms;
  std::fprintf(stderr, "GPU time by op (%s), total %.1f ms:\n", ctx.info().name.c_str(), total);
  for (auto& e : p)
    std::fprintf(stderr, "  %-24s %10.2f ms %6.1f%% %8llu dispatches\n", e.label.c_str(), e.ms, total > 0 ? 100.0 * e.ms / total : 0.0,
                 static_cast<unsigned long long>(e.count));
}

int run_command(std::vector<std::string> args) {
  graph::RunEnv env;
  int device = -1;
  bool profile = false, quiet = false, no_cache = false, skip_memory_check = false;
  std::string weights_dtype;  // --weights, "" for the device's default
  const GraphArgs ga = parse_graph_args(args, kUsage, [&](const std::vector<std::string>& as, size_t& i) {
    const std::string& a = as[i];
    if (auto v = option_value(as, i, "--output-dir")) env.paths.output_dir = *v;
    else if (auto v = option_value(as, i, "--models-dir")) env.paths.models_dir = *v;
    else if (auto v = option_value(as, i, "--input-dir")) env.paths.input_dir = *v;
    else if (auto v = option_value(as, i, "--temp-dir")) env.paths.temp_dir = *v;
    else if (auto v = option_value(as, i, "--device")) {
      try {
        size_t used = 0;
        device = std::stoi(*v, &used);
        if (used != v->size()) throw std::invalid_argument(*v);
      } catch (const std::exception&) {
        throw UsageError("--device expects an integer, got '" + *v + "'");
      }
    } else if (auto w = option_value(as, i, "--weights")) {
      if (*w != "f32" && *w != "f16") throw UsageError("--weights must be f32 or f16, got '" + *w + "'");
      env.services->set(graph::kWeightsDtypeService, std::make_shared<std::string>(*w));
      weights_dtype = *w;
    } else if (auto cv = option_value(as, i, "--clip-vocab")) {
      env.services->set(graph::kClipVocabService, std::make_shared<std::string>(*cv));
    } else if (a == "--profile") profile = true;
    else if (a == "--quiet" || a == "-q") quiet = true;
    else if (a == "--no-cache") no_cache = true;
    else if (a == "--skip-memory-check") skip_memory_check = true;
    else if (a == "--allow-nonfinite") env.limits.allow_nonfinite = true;
    else if (auto mp = option_value(as, i, "--max-image-pixels")) env.limits.max_image_pixels = parse_count(*mp, "--max-image-pixels");
    else return false;
    return true;
  });
  if (ga.help) return kExitOk;
  const std::string& file = ga.file;

  auto g = load_graph_with_sets("run", ga);
  if (!g) return kExitUsage;
  auto v = graph::validate(*g, env.paths);
  if (!v.ok()) {
    std::cerr << "vkflow run: " << file << ": invalid graph (" << v.errors.size() << " problem"
              << (v.errors.size() == 1 ? "" : "s") << "):\n";
    for (auto& e : v.errors) std::cerr << "  " << e.to_string() << "\n";
    return kExitUsage;
  }
  // The device-memory plan, before anything runs: a graph that cannot fit fails now, not after minutes.
  if (!skip_memory_check) {
    const vk::PlannedDevice pd = vk::planned_device(device, weights_dtype);
    if (auto err = graph::check_memory_plan(graph::estimate_memory(*g, env.paths, {pd.compute_bytes}), pd.heap)) {
      std::cerr << "vkflow run: " << file << ": planned device memory does not fit: " << *err << "\n";
      return kExitUsage;
    }
  }

  // >>> GPU: created lazily, on the first node that asks for it (see engine/graph/services.h).
  std::shared_ptr<void> gpu_holder;  // kept to print the GPU profile after the run
  env.services->set_factory(graph::kGpuService, [device, profile, &gpu_holder] {
    auto c = graph::make_gpu_service(device);
    if (profile) static_cast<vk::Context*>(c.get())->set_profiling(true);
    gpu_holder = c;
    return c;
  });
  env.cancel = &g_cancel;
  ProgressPrinter progress(isatty(STDERR_FILENO), quiet);
  env.on_event = [&](const graph::Event& e) { progress.on_event(e); };
  auto prev = std::signal(SIGINT, on_sigint);

  graph::CacheOptions cache;
  cache.enabled = !no_cache;
  graph::Executor ex(cache);
  graph::RunResult r = ex.run(*g, env);
  std::signal(SIGINT, prev);
  if (profile) {
    progress.print_profile();
    if (gpu_holder) print_gpu_profile(*static_cast<vk::Context*>(gpu_holder.get()));
  }

  // Results of the output nodes: files written (stdout, one per line) and text previews.
  for (auto& [id, ui] : r.ui) {
    if (auto it = ui.find("images"); it != ui.end() && it->is_array())
      for (auto& img : *it) std::cout << graph::ui_image_path(img, env.paths).string() << "\n";
    if (auto it = ui.find("text"); it != ui.end() && it->is_array())
      for (auto& t : *it) std::cout << "#" << id << ": " << (t.is_string() ? t.get<std::string>() : t.dump()) << "\n";
  }
  switch (r.status) {
    case graph::RunStatus::Success: return kExitOk;
    case graph::RunStatus::Invalid:
      std::cerr << "vkflow run: invalid graph:\n" << r.validation.to_string();
      return kExitUsage;
    case graph::RunStatus::Interrupted:
      std::cerr << "vkflow run: interrupted at node " << r.error_node << " (" << r.error_class << ")\n";
      return kExitFailure;
    case graph::RunStatus::Error:
      std::cerr << "vkflow run: error in node " << r.error_node << " (" << r.error_class << "): " << r.error_message
                << "\n";
      return kExitFailure;
  }
  return kExitFailure;
}

Registrar reg({"run", "run a ComfyUI API-format graph (JSON)", run_command});

}  // namespace
}  // namespace vkf::cli
