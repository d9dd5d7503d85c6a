// `vkflow eval sampler` (a sampler golden case through our schedule + sampler + analytic denoiser) and
// `vkflow eval noise` (ComfyUI's initial noise, torch.randn of a seed), registered with cmd_eval.
#include <iostream>
#include <sstream>

#include "engine/cli/eval_tasks.h"
#include "engine/io/safetensors_writer.h"
#include "engine/sampling/sampler_case.h"
#include "engine/sampling/torch_rng.h"
#include "engine/vk/context.h"

namespace vkf::cli {
namespace {

int run_eval_sampler(const Args& a) {
  const std::string case_path = a.require("case"), out_path = a.require("output");
  const sampling::SamplerCase c = sampling::load_sampler_case(case_path);
  vk::ContextOptions co;
  co.device = a.get_int("device", -1);
  vk::Context ctx(co);
  const auto r = sampling::run_sampler_case(ctx, c, true);
  io::SafeTensorsWriter w;
  w.add_f32("x_out", std::vector<int64_t>(c.shape.begin(), c.shape.end()), r.x_out);
  w.add_f32("sigmas", {int64_t(r.sigmas.size())}, r.sigmas);
  if (!r.x_steps.empty()) {
    std::vector<int64_t> sh{int64_t(r.x_steps.size())};
    sh.insert(sh.end(), c.shape.begin(), c.shape.end());
    std::vector<float> xs, ds;
    for (size_t i = 0; i < r.x_steps.size(); ++i) {
      xs.insert(xs.end(), r.x_steps[i].begin(), r.x_steps[i].end());
      ds.insert(ds.end(), r.denoised_steps[i].begin(), r.denoised_steps[i].end());
    }
    w.add_f32("x_steps", sh, xs);
    w.add_f32("denoised_steps", sh, ds);
  }
  w.set_metadata("sampler", c.sampler);
  w.set_metadata("scheduler", c.scheduler);
  w.set_metadata("model_calls", std::to_string(r.model_calls));
  w.write(out_path);
  std::cout << c.sampler << " / " << c.scheduler << ": " << r.sigmas.size() - 1 << " steps, " << r.model_calls
            << " model calls -> " << out_path << "\n";
  return kExitOk;
}

std::vector<int64_t> parse_shape(const std::string& s) {
  std::vector<int64_t> shape;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t pos = 0;
      long long v = std::stoll(item, &pos);
      if (pos != item.size() || v <= 0) throw std::invalid_argument(item);
      shape.push_back(v);
    } catch (const std::exception&) {
      throw UsageError("--shape expects positive integers separated by commas, got '" + s + "'");
    }
  }
  if (shape.empty() || shape.size() > 5) throw UsageError("--shape needs 1 to 5 dimensions, got '" + s + "'");
  return shape;
}

int run_eval_noise(const Args& a) {
  const std::string seed_s = a.require("seed");
  uint64_t seed = 0;
  try {
    size_t pos = 0;
    if (!seed_s.empty() && seed_s[0] == '-') throw std::invalid_argument(seed_s);
    seed = std::stoull(seed_s, &pos);
    if (pos != seed_s.size()) throw std::invalid_argument(seed_s);
  } catch (const std::exception&) {
    throw UsageError("--seed expects an unsigned 64-bit integer, got '" + seed_s + "'");
  }
  const auto shape = parse_shape(a.require("shape"));
  const auto v = sampling::torch_randn(seed, shape);
  io::SafeTensorsWriter w;
  w.add_f32("noise", shape, v);
  w.set_metadata("seed", seed_s);
  w.write(a.require("output"));
  return kExitOk;
}

EvalRegistrar reg_sampler({"sampler", run_eval_sampler});
EvalRegistrar reg_noise({"noise", run_eval_noise});

}  // namespace
}  // namespace vkf::cli
