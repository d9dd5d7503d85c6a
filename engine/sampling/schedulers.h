#pragma once
// ComfyUI's noise schedulers (comfy/samplers.py SCHEDULER_HANDLERS + k-diffusion get_sigmas_*) and the
// KSampler sigma rules. Every schedule is computed in float32 as ComfyUI does and ends with the
// terminal sigma (0), so a schedule for N steps has N+1 entries (ddim_uniform can give more, see below).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampling/model_sampling.h"
#include "engine/sampling/named_registry.h"

namespace vkf::sampling {

// One registered scheduler: sigmas(model_sampling, steps), N+1 entries ending in 0 by convention.
struct SchedulerDesc {
  std::string name, display_name;
  std::string origin = "built-in";
  std::function<std::vector<float>(const ModelSampling&, int steps)> sigmas;
};
using SchedulerRegistry = NamedRegistry<SchedulerDesc>;
// The process-wide registry; the built-ins (ComfyUI's SCHEDULER_HANDLERS order: simple, sgm_uniform,
// karras, exponential, ddim_uniform, beta, normal, linear_quadratic, kl_optimal) register on first use.
SchedulerRegistry& scheduler_registry();

// The registered scheduler names in registration order, at the time of the call.
std::vector<std::string> scheduler_names();
bool is_scheduler_name(std::string_view name);

// comfy.samplers.calculate_sigmas(model_sampling, scheduler, steps). Unknown name -> SamplingError
// listing the valid names; steps < 1 -> SamplingError. Quirks kept: ddim_uniform may return more
// than `steps` steps (30 -> 31 for SD1.x) and does not start at sigma_max; kl_optimal with 1 step
// starts with NaN (0/0 in ComfyUI).
std::vector<float> calculate_sigmas(const ModelSampling& ms, std::string_view scheduler, int steps);

// --- individual schedulers (ComfyUI defaults) ---
std::vector<float> simple_sigmas(const ModelSampling& ms, int steps);
std::vector<float> ddim_uniform_sigmas(const ModelSampling& ms, int steps);
// normal (sgm=false) and sgm_uniform (sgm=true).
std::vector<float> normal_sigmas(const ModelSampling& ms, int steps, bool sgm = false);
std::vector<float> beta_sigmas(const ModelSampling& ms, int steps, double alpha = 0.6, double beta = 0.6);
// linear_steps < 0 -> steps / 2 (ComfyUI default None).
std::vector<float> linear_quadratic_sigmas(const ModelSampling& ms, int steps, double threshold_noise = 0.025,
                                           int linear_steps = -1);
// Standalone forms (also the KarrasScheduler / ExponentialScheduler / PolyexponentialScheduler /
// VPScheduler nodes). sigma_min/max are python floats in ComfyUI (double here).
std::vector<float> karras_sigmas(int n, double sigma_min, double sigma_max, double rho = 7.0);
std::vector<float> exponential_sigmas(int n, double sigma_min, double sigma_max);
std::vector<float> kl_optimal_sigmas(int n, double sigma_min, double sigma_max);
std::vector<float> polyexponential_sigmas(int n, double sigma_min, double sigma_max, double rho = 1.0);
std::vector<float> vp_sigmas(int n, double beta_d = 19.9, double beta_min = 0.1, double eps_s = 1e-3);

// --- KSampler rules ---
// The registered sampler's discards_penultimate property (dpm_2, dpm_2_ancestral, uni_pc, uni_pc_bh2 among
// the built-ins): KSampler computes steps+1 sigmas and drops sigmas[-2]. False for unknown names.
bool sampler_discards_penultimate(std::string_view sampler);
// KSampler(...).sigmas: the discard-penultimate rule plus denoise (None/>0.9999: full schedule;
// <= 0: empty; else int(steps/denoise) steps computed and the last steps+1 kept).
std::vector<float> ksampler_sigmas(const ModelSampling& ms, std::string_view scheduler, std::string_view sampler,
                                   int steps, double denoise = 1.0);
// KSampler.sample's start_step/last_step (KSamplerAdvanced): last_step < len-1 truncates to
// last_step+1 entries (force_full_denoise sets the new last sigma to 0); start_step < len-1 drops the
// first start_step entries, otherwise the result is empty (ComfyUI then returns the latent unchanged).
// Negative start/last = not given.
std::vector<float> slice_sigmas(std::vector<float> sigmas, int start_step, int last_step, bool force_full_denoise);

}  // namespace vkf::sampling
