#include "engine/bench/model_bench.h"
#include "engine/models/prepare.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <vector>

#include "engine/bench/model_flops.h"
#include "engine/bench/ops_bench.h"
#include "engine/bench/random_checkpoint.h"
#include "engine/models/checkpoint.h"
#include "engine/models/vae_tiled.h"
#include "engine/vk/recorder.h"

namespace vkf::bench {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
// Process CPU time (all threads: lavapipe's workers included), ms. Unlike wall time it barely moves when
// other processes load the machine, so it is the fairer number to compare on a shared host.
double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return double(t.tv_sec) * 1e3 + double(t.tv_usec) * 1e-3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}
double mib(uint64_t b) { return double(b) / (1024.0 * 1024.0); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Records one evaluation into `rec` and keeps its output alive until the caller drops the Tensor.
using Eval = std::function<Tensor(vk::Recorder&)>;

struct Workload {
  std::string shape;  // human-readable input shapes
  FlopCount flops;
  Eval eval;
};

std::vector<float> randn(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  pseudo_normal(v, seed, 1.0f);
  return v;
}

std::string dims(std::initializer_list<int64_t> d) {
  std::string s = "[";
  for (auto x : d) s += (s.size() > 1 ? "," : "") + std::to_string(x);
  return s + "]";
}

// Text tokens as the tokenizer lays them out: BOS, a short prompt, EOS, then EOS/pad up to `t`.
std::vector<int32_t> prompt_ids(const models::TextConfig& c, int64_t batch, int64_t t) {
  const int32_t words[] = {320, 1125, 539, 550, 18376, 6765, 525, 320, 2087, 530, 7706};  // "a photograph of ..."
  std::vector<int32_t> ids;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < t; ++i) {
      int32_t id = i == 0 ? c.bos_id : i <= 11 ? words[(i - 1 + b) % 11] : i == 12 ? c.eos_id : c.pad_id;
      ids.push_back(std::clamp(id, 0, c.vocab_size - 1));  // small real checkpoints may have a small vocab
    }
  return ids;
}

void print_row(std::ostream& out, const char* fmt, auto... args) {
  char line[320];
  std::snprintf(line, sizeof line, fmt, args...);
  out << line;
}

}  // namespace

void run_model_bench(vk::Context& ctx, const std::string& what, const ModelBenchOptions& opt, std::ostream& out) {
  if (what != "unet" && what != "text" && what != "vae-decode")
    throw std::invalid_argument("unknown model benchmark '" + what + "' (unet, text, vae-decode)");
  if (opt.repeat < 0) throw std::invalid_argument("--repeat must be >= 0");
  models::LoadOptions lo;
  lo.config = opt.config;
  lo.dtype = opt.dtype;
  lo.unet = what == "unet";
  lo.text = what == "text";
  lo.vae = what == "vae-decode";

  auto t_load = Clock::now();
  std::shared_ptr<models::Checkpoint> ck;
  std::string source;
  const std::string kRandom = "-random";
  if (opt.checkpoint.size() > kRandom.size() && opt.checkpoint.ends_with(kRandom)) {
    const std::string model = opt.checkpoint.substr(0, opt.checkpoint.size() - kRandom.size());
    static const std::map<std::string, std::string> files = {{"sd15", "manifest_sd15.json"},
                                                             {"sd21", "manifest_sd21.json"},
                                                             {"sdxl", "manifest_sdxl_base.json"},
                                                             {"sdxl_refiner", "manifest_sdxl_refiner.json"}};
    auto it = files.find(model);
    if (it == files.end())
      throw std::invalid_argument("unknown random model '" + model + "' (sd15, sd21, sdxl, sdxl_refiner)");
    auto manifest = find_manifest(it->second, opt.manifest);
    ck = random_checkpoint(ctx, manifest, lo, opt.seed);
    source = opt.checkpoint + " (" + ck->config.family + " layout from " + manifest.string() + ", random weights, seed " +
             std::to_string(opt.seed) + ")";
  } else {
    ck = models::load_checkpoint(ctx, opt.checkpoint, lo);
    source = opt.checkpoint;
  }
  const double load_ms = ms_since(t_load);
  const DType dt = ck->dtype;
  const auto& cfg = ck->config;

  Workload wl;
  const int64_t f = cfg.vae.downsample_factor();
  if (what == "text") {
    const int64_t B = opt.batch > 0 ? opt.batch : 1, T = opt.tokens;
    auto ids = prompt_ids(cfg.text, B, T);
    wl.shape = "input_ids " + dims({B, T});
    wl.flops = text_flops(cfg.text, B, T);
    const auto* enc = ck->text.get();
    wl.eval = [enc, ids, B](vk::Recorder& rec) { return enc->forward(rec, ids, B).last_hidden_state; };
  } else {
    if (opt.size <= 0 || opt.size % f) throw std::invalid_argument("--size must be a positive multiple of " + std::to_string(f));
    const int64_t h = opt.size / f;
    if (what == "unet") {
      const int64_t B = opt.batch > 0 ? opt.batch : 2, T = opt.tokens, C = cfg.unet.context_dim;
      const int64_t m = int64_t(1) << (cfg.unet.levels() - 1);
      if (h % m) throw std::invalid_argument("--size must be a multiple of " + std::to_string(f * m) + " for this UNet");
      auto x = std::make_shared<Tensor>(from_host(ctx, {B, cfg.unet.in_channels, h, h},
                                                  randn(size_t(B * cfg.unet.in_channels * h * h), opt.seed + 11), dt));
      auto c = std::make_shared<Tensor>(from_host(ctx, {B, T, C}, randn(size_t(B * T * C), opt.seed + 12), dt));
      std::vector<float> ts(size_t(B), 500.0f);
      // SDXL's vector input y [B, adm] (pooled text + size embeddings), random like the context
      const int64_t A = cfg.unet.adm_in_channels;
      auto y = std::make_shared<Tensor>();
      if (A > 0) *y = from_host(ctx, {B, A}, randn(size_t(B * A), opt.seed + 14), dt);
      wl.shape = "x " + dims({B, cfg.unet.in_channels, h, h}) + ", context " + dims({B, T, C}) + " (image " +
                 std::to_string(opt.size) + "x" + std::to_string(opt.size) + ")";
      wl.flops = unet_flops(cfg.unet, B, h, h, T);
      const auto* net = ck->unet.get();
      if (A > 0) wl.shape += ", y " + dims({B, A});
      wl.eval = [net, x, c, y, ts](vk::Recorder& rec) {
        return net->forward(rec, *x, ts, *c, nullptr, y->defined() ? y.get() : nullptr);
      };
    } else {
      const int64_t B = opt.batch > 0 ? opt.batch : 1, E = cfg.vae.embed_dim;
      auto z = std::make_shared<Tensor>(from_host(ctx, {B, E, h, h}, randn(size_t(B * E * h * h), opt.seed + 13), dt));
      wl.shape = "z " + dims({B, E, h, h}) + " -> image " + dims({B, cfg.vae.out_ch, h * f, h * f});
      wl.flops = vae_decode_flops(cfg.vae, B, h, h);
      const auto* vae = ck->vae.get();
      wl.eval = [vae, z](vk::Recorder& rec) { return vae->decode(rec, *z); };
      if (opt.tile > 0) {
        // As VAEDecodeTiled: latent tiles of tile/f with overlap/f, one submit per tile.
        if (opt.tile % f || opt.overlap % f || opt.overlap < 0 || opt.overlap >= opt.tile)
          throw std::invalid_argument("--tile and --overlap must be multiples of " + std::to_string(f) +
                                      " with 0 <= overlap < tile");
        models::TileSpec spec{opt.tile / f, opt.overlap / f, f, 1};
        const auto tiles = models::tile_starts(h, spec.tile, spec.overlap).size();
        wl.shape += ", tiles of " + std::to_string(opt.tile) + " px overlapping " + std::to_string(opt.overlap) +
                    " (" + std::to_string(tiles * tiles) + " per evaluation; work below counts one whole-image pass)";
        const int64_t out_ch = cfg.vae.out_ch;
        wl.eval = [vae, z, spec, out_ch](vk::Recorder& rec) {
          return models::run_tiled(rec, *z, spec, out_ch, [vae](vk::Recorder& r, const Tensor& t) { return vae->decode(r, t); });
        };
      }
    }
  }

  const auto& info = ctx.info();
  out << "device:      " << info.name << "\n"
      << "benchmark:   " << what << ", " << dtype_name(dt) << ", " << wl.shape << "\n"
      << "checkpoint:  " << source << " (loaded in " << int(load_ms) << " ms)\n";
  print_row(out, "weights:     %.1f MiB on the device\n", mib(ck->weights->bytes()));
  print_row(out, "work:        %.2f GFLOP per evaluation (conv %.2f, linear %.2f, attention QK/PV %.2f); %.1f M params\n",
            wl.flops.total() * 1e-9, wl.flops.conv * 1e-9, wl.flops.linear * 1e-9, wl.flops.attention * 1e-9,
            wl.flops.params * 1e-6);
  out << std::flush;

  // Two-phase: plan this evaluation and prepare its pipelines (build + lavapipe JIT) as a model load does.
  const auto prep = models::prepare(ctx, [&](vk::Recorder& r) { wl.eval(r); });
  print_row(out, "prepare:     %.1f ms: %zu pipelines built, %zu compiled ahead by one dispatch each on %u device(s)%s\n",
            prep.ms, prep.built, prep.warmed, prep.devices, models::prepare_enabled() ? "" : " (VKFLOW_PREPARE=0)");
  out << std::flush;

  auto& alloc = ctx.allocator();
  // Warm-up: pipeline creation and first allocation of every intermediate size class.
  auto t_warm = Clock::now();
  uint32_t dispatches = 0, submits = 0, barriers = 0;
  uint64_t widest = 0;  // largest storage-buffer binding of one dispatch
  const uint64_t live0 = alloc.stats().live_bytes;  // weights + inputs
  alloc.reset_peak();
  const double warm_cpu0 = cpu_ms();
  double warm_record = 0;
  {
    vk::Recorder rec(ctx);
    Tensor y = wl.eval(rec);
    warm_record = ms_since(t_warm);
    rec.submit();
    dispatches = rec.dispatch_count(), submits = rec.submit_count(), barriers = rec.barrier_count();
    widest = rec.max_binding_bytes();
  }
  const double warm_ms = ms_since(t_warm), warm_cpu = cpu_ms() - warm_cpu0;
  uint64_t base_live = alloc.stats().live_bytes;

  // --repeat 0 (very long runs): the first evaluation is the only one reported, pipeline creation included.
  std::vector<double> wall, record, cpu;
  if (opt.repeat == 0) {
    wall = {warm_ms}, record = {warm_record}, cpu = {warm_cpu};
    base_live = live0;
  } else {
    alloc.reset_peak();
  }
  for (int i = 0; i < opt.repeat; ++i) {
    vk::Recorder rec(ctx);
    const double c0 = cpu_ms();
    auto t0 = Clock::now();
    Tensor y = wl.eval(rec);
    record.push_back(ms_since(t0));
    rec.submit();
    wall.push_back(ms_since(t0));
    cpu.push_back(cpu_ms() - c0);
    if (rec.submit_count() != 1) submits = rec.submit_count();
  }
  const auto mem = alloc.stats();

  // One profiled evaluation for the per-op GPU breakdown (timestamps add a little overhead).
  std::vector<vk::OpTiming> timings;
  double gpu_ms = 0, prof_wall = 0;
  uint32_t timed = 0;
  if (opt.repeat > 0) {
    vk::Recorder rec(ctx, /*profile=*/true);
    auto t0 = Clock::now();
    Tensor y = wl.eval(rec);
    rec.submit();
    prof_wall = ms_since(t0);
    timings = rec.timings();
    gpu_ms = rec.gpu_ms_total();
    for (auto& t : timings) timed += t.count;
  }

  const double w = median(wall), gflop = wl.flops.total() * 1e-9;
  // First evaluation vs a warm one: what a user waits for the first image (pipeline creation, and on
  // lavapipe the JIT at first dispatch, which Mesa's shader cache keeps for the next process).
  const auto& pc = ctx.pipelines();
  print_row(out, "first eval:  %.1f ms (recording %.1f ms) = %.2fx the median warm evaluation; %zu pipelines, %.1f ms in vkCreateComputePipelines\n",
            warm_ms, warm_record, opt.repeat > 0 ? warm_ms / std::max(w, 1e-9) : 1.0, pc.size(), pc.build_ms());
  print_row(out, "first image: %.1f ms prepare + first eval = %.2fx the median warm evaluation\n", prep.ms + warm_ms,
            opt.repeat > 0 ? (prep.ms + warm_ms) / std::max(w, 1e-9) : 1.0);
  print_row(out, "pipe cache:  %s (%zu bytes of driver data loaded%s%s)\n",
            pc.file().empty() ? "not persisted" : pc.file().c_str(), pc.loaded_bytes(),
            pc.load_note().empty() ? "" : "; ignored: ", pc.load_note().c_str());
  print_row(out, "wall:        median %.1f ms per evaluation over %d (min %.1f, max %.1f; recording %.1f ms)\n", w,
            std::max(opt.repeat, 1), *std::min_element(wall.begin(), wall.end()), *std::max_element(wall.begin(), wall.end()),
            median(record));
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = load[1] = load[2] = 0;
  print_row(out, "cpu:         median %.1f ms process CPU time per evaluation (load average %.2f %.2f %.2f)\n",
            median(cpu), load[0], load[1], load[2]);
  print_row(out, "throughput:  %.2f GFLOP/s (wall)", gflop / (w * 1e-3));
  // GPU time / wall time of the profiled run: how busy one submit keeps the device.
  if (gpu_ms > 0)
    print_row(out, ", %.2f GFLOP/s (GPU time %.1f ms of %.1f ms wall in the profiled run: device busy %.1f%%)",
              gflop / (gpu_ms * 1e-3), gpu_ms, prof_wall, 100.0 * gpu_ms / std::max(prof_wall, 1e-9));
  out << "\n";
  double ceil = 0;
  if (opt.ceiling) {
    Options co;
    co.repeat = 3;
    Result peak = fma_ceiling(ctx, co);
    const double pt = peak.t.gpu_ms > 0 ? peak.t.gpu_ms : peak.t.wall_ms;
    ceil = pt > 0 ? peak.flops / (pt * 1e6) : 0;
    if (ceil > 0)
      print_row(out, "ceiling:     FMA peak %.2f GFLOP/s -> this model reaches %.1f%% (wall)%s\n", ceil,
                100.0 * gflop / (w * 1e-3) / ceil, "");
  }
  print_row(out, "commands:    %u dispatches, %u barriers, %u submit(s) per evaluation; largest binding %.1f MiB (device limit %.1f MiB)\n",
            dispatches, barriers, submits, mib(widest), mib(info.max_storage_buffer_range));
  // "Peak live" is what tensors occupy at the worst moment (like torch.cuda.max_memory_allocated); "held" is the
  // device memory in blocks, pooled buffers included (like max_memory_reserved).
  print_row(out, "memory:      peak live %.1f MiB = weights+inputs %.1f MiB + activations %.1f MiB; device memory held %.1f MiB\n",
            mib(mem.peak_live_bytes), mib(base_live), mib(mem.peak_live_bytes - std::min(mem.peak_live_bytes, base_live)),
            mib(mem.block_bytes));
  if (timings.empty()) {
    out << (opt.repeat == 0 ? "ops:         not profiled (--repeat 0)\n" : "ops:         no GPU timestamps on this device\n");
    return;
  }
  std::sort(timings.begin(), timings.end(), [](auto& a, auto& b) { return a.ms > b.ms; });
  // Per op family: analytic work of that family over the GPU time of its dispatches (conv includes its
  // im2col passes, linear its B repacks), as a fraction of the FMA ceiling.
  struct Family {
    const char* name;
    const char* label;  // dispatch labels containing this
    double flop, ms = 0;
  } fam[] = {{"conv", "conv", wl.flops.conv}, {"linear", "matmul", wl.flops.linear}, {"attention", "attention", wl.flops.attention}};
  for (auto& t : timings)
    for (auto& f : fam)
      if (t.label.find(f.label) != std::string::npos) {
        f.ms += t.ms;
        break;
      }
  out << "by family:  ";
  for (auto& f : fam) {
    if (f.flop <= 0 || f.ms <= 0) continue;
    const double gf = f.flop * 1e-9 / (f.ms * 1e-3);
    print_row(out, " %s %.1f GFLOP/s (%.1f%% of GPU time%s", f.name, gf, 100.0 * f.ms / gpu_ms, ceil > 0 ? ", " : ")");
    if (ceil > 0) print_row(out, "%.1f%% of the ceiling)", 100.0 * gf / ceil);
    out << ";";
  }
  out << "\n";
  print_row(out, "top %d ops by GPU time (profiled run, %u of %u dispatches timed):\n", opt.top, timed, dispatches);
  print_row(out, "  %-28s %8s %12s %8s %10s\n", "op", "count", "GPU ms", "share", "ms/call");
  for (size_t i = 0; i < timings.size() && int(i) < opt.top; ++i) {
    const auto& t = timings[i];
    print_row(out, "  %-28s %8u %12.2f %7.1f%% %10.3f\n", t.label.c_str(), t.count, t.ms, 100.0 * t.ms / gpu_ms,
              t.ms / std::max(1u, t.count));
  }
}

}  // namespace vkf::bench
