#pragma once
// ComfyUI's samplers (comfy.samplers.KSAMPLER_NAMES + ddim, uni_pc, uni_pc_bh2) as functions over a
// denoise callback, k-diffusion style: the sampler owns the state x (a GPU tensor) and asks the
// callback for the denoised prediction D(x, sigma) at the sigmas it chooses.
//
// Per step the host computes only scalars (sigmas, h, solver coefficients, in double) and the tensor
// arithmetic is recorded as fused linear combinations (ops::lincomb); the recorder is submitted once per
// step, after the step's denoiser calls and update, then `cancel` is checked and `callback` runs.
//
// Numerics follow ComfyUI's sampler code (comfy/k_diffusion/sampling.py, extra_samplers/uni_pc.py,
// k_diffusion/deis.py, sa_solver.py), including its first/last-step rules and noise-call order;
// conventions per sampler are documented in shared/golden/SAMPLERS.md.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <map>
#include <memory>
#include <vector>

#include "engine/sampling/model_sampling.h"
#include "engine/sampling/named_registry.h"
#include "engine/sampling/torch_rng.h"
#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::sampling {

// Thrown between steps when SamplerEnv::cancel becomes true.
struct SamplingCancelled : SamplingError {
  using SamplingError::SamplingError;
};

// What the model (with CFG) returns for one evaluation. `uncond` is the unconditional prediction
// (ComfyUI's post-CFG "uncond_denoised"): required by the CFG++ samplers (sampler_needs_uncond), which
// also need it at cfg 1 (ComfyUI disables its cfg-1 shortcut for them); others ignore it.
struct Denoised {
  Tensor denoised;
  Tensor uncond;
};

// Records D(x, sigma) into the recorder (may also submit internally). One sigma for the whole batch,
// as KSampler uses; double so that the sampler's intermediate sigmas reach the model unrounded.
using DenoiseFn = std::function<Denoised(vk::Recorder&, const Tensor& x, double sigma)>;

// ComfyUI's `noise_sampler(sigma, sigma_next)`: unit-normal noise of the latent's shape, one tensor per
// call, consumed in the sampler's call order. Samplers use the returned tensor within the step that asked for it.
class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  virtual Tensor next(vk::Recorder& rec, const Shape& shape, double sigma, double sigma_next) = 0;
};

// Host-generated noise uploaded into a ring of device buffers. A buffer is (re)filled only when no
// recorded, unsubmitted work can still read it: a fresh buffer from the pool may be one that such work
// uses, and a ring slot may still be read by the current step, so either case submits first (rare: the
// first calls of a run, or more than kSlots calls without a submit).
class HostNoiseSource : public NoiseSource {
 public:
  Tensor next(vk::Recorder& rec, const Shape& shape, double sigma, double sigma_next) override;
  size_t calls() const { return calls_; }

 protected:
  virtual void generate(std::vector<float>& out, const Shape& shape, double sigma, double sigma_next) = 0;

 private:
  static constexpr size_t kSlots = 8;
  struct Slot {
    Tensor t;
    uint32_t filled_at = 0;  // recorder submit count when filled
  };
  std::vector<Slot> slots_;
  size_t calls_ = 0;
  std::vector<float> host_;
};

// Pre-drawn tensors returned in call order (the goldens' `step_noise`): `data` holds n calls of
// shape_numel(shape) floats each. A call past the end or with another shape is a SamplingError.
class RecordedNoise : public HostNoiseSource {
 public:
  RecordedNoise(std::vector<float> data, Shape shape);
  size_t available() const { return count_; }

 protected:
  void generate(std::vector<float>& out, const Shape& shape, double sigma, double sigma_next) override;

 private:
  std::vector<float> data_;
  Shape shape_;
  size_t count_ = 0, used_ = 0;
};

// ComfyUI's default_noise_sampler on CPU: a torch.Generator seeded with seed + 1 (ComfyUI adds 1 for CPU
// tensors), torch.randn(x.shape) per call. This is also what we use where ComfyUI defaults to a torchsde
// Brownian tree (dpmpp_sde, dpmpp_2m_sde(_heun), dpmpp_3m_sde and their _gpu aliases): the tree's values
// are not reproduced, only its marginal distribution (unit normal per call). ComfyUI on a CUDA device
// draws from the CUDA generator instead, which is not reproduced either.
class SeededNoise : public HostNoiseSource {
 public:
  explicit SeededNoise(uint64_t seed) : gen_(seed + 1) {}

 protected:
  void generate(std::vector<float>& out, const Shape& shape, double sigma, double sigma_next) override;

 private:
  TorchGenerator gen_;
};

struct SamplerEnv {
  vk::Recorder& rec;
  const ModelSampling& ms;
  DenoiseFn denoise;
  NoiseSource* noise = nullptr;  // required by stochastic samplers only
  // After each step: step index, step count (-1 when unknown: dpm_adaptive), the state after the step
  // (in k-diffusion scale; for dpm_fast/dpm_adaptive after each internal step) and the step's first
  // denoised prediction. Runs after the step's submit, so tensors may be downloaded here.
  std::function<void(int step, int total, const Tensor& x, const Tensor& denoised)> callback;
  const std::atomic<bool>* cancel = nullptr;
  // Optional: throws the run's own cancellation exception once the run is cancelled (nodes:
  // graph::Interrupted). Plugin samplers poll it on every host call, so cancel stops them within a step.
  std::function<void()> check_cancel;
};

// Sampler parameters ComfyUI exposes through its custom-sampler nodes. Unset fields take each sampler's
// ComfyUI default (eta: 1 for ancestral/SDE samplers, 0 for dpm_fast/dpm_adaptive); samplers whose
// ComfyUI function fixes a value (euler_cfg_pp, exp_heun_2_x0: eta 0; res_multistep: eta 0) ignore it.
struct SamplerOptions {
  std::optional<double> eta;
  double s_noise = 1.0;
  double dpmpp_sde_r = 0.5;  // dpmpp_sde(_gpu) midpoint ratio
  double ge_gamma = 2.0;     // gradient_estimation(_cfg_pp)
  // dpm_adaptive
  int adaptive_order = 3;
  double rtol = 0.05, atol = 0.0078, h_init = 0.05, pcoeff = 0.0, icoeff = 1.0, dcoeff = 0.0;
  double accept_safety = 0.81;
  // Values of a sampler's declared parameters (SamplerDesc::params) by name; missing ones take the
  // declared default.
  std::map<std::string, double, std::less<>> params;
};

namespace detail {
class Run;
}

// A parameter a sampler declares: it becomes an input of the sampler's own node (FLOAT, INT or BOOLEAN).
struct SamplerParam {
  enum class Type { Float, Int, Bool };
  std::string name, tooltip;
  Type type = Type::Float;
  double def = 0.0, min = 0.0, max = 1.0, step = 0.01;
};

// One registered sampler. Its properties are declared, never derived from the name.
struct SamplerDesc {
  std::string name, display_name, description;
  std::string origin = "built-in";  // "built-in" or "plugin <file>"
  bool needs_uncond = false;          // CFG++: the DenoiseFn must fill Denoised::uncond
  bool discards_penultimate = false;  // KSampler computes steps+1 sigmas and drops sigmas[-2]
  bool stochastic = false;            // may draw from the noise source (SDE / ancestral)
  std::vector<SamplerParam> params;
  // Runs from x_init over run.s (at least two sigmas), returns the final state.
  std::function<Tensor(detail::Run& run, Tensor x_init)> run;
};
using SamplerRegistry = NamedRegistry<SamplerDesc>;
// The process-wide sampler registry; the built-ins are registered on first use through add().
SamplerRegistry& sampler_registry();
// Checks what add() cannot: a run function, param names/ranges. Throws SamplingError naming the problem.
void validate_sampler_desc(const SamplerDesc& d);
// Value of declared parameter `name` in `opt` (its default when unset).
double sampler_param(const SamplerDesc& d, const SamplerOptions& opt, std::string_view name);

// The registered samplers in registration order (built-ins first), at the time of the call.
std::vector<std::string> sampler_names();
bool is_sampler_name(std::string_view name);
// The registered sampler's needs_uncond (false when unknown).
bool sampler_needs_uncond(std::string_view name);

// Runs sampler `name` from x_init (what ComfyUI's sampler function receives, i.e. after noise_scaling)
// over `sigmas` (descending, usually ending in 0) and returns the final state (before
// inverse_noise_scaling). x_init must be F32. Unknown names throw SamplingError listing the registered ones.
Tensor run_sampler(std::string_view name, SamplerEnv& env, Tensor x_init, const std::vector<float>& sigmas,
                   const SamplerOptions& opt = {});

// KSAMPLER.sample: x_init = noise_scaling(sigmas[0], noise, latent, max_denoise(sigmas[0])), run, then
// inverse_noise_scaling(sigmas.back()). `latent` may be undefined (an empty latent: zeros).
Tensor ksampler_sample(std::string_view name, SamplerEnv& env, const Tensor& noise, const Tensor& latent,
                       const std::vector<float>& sigmas, const SamplerOptions& opt = {});

}  // namespace vkf::sampling
