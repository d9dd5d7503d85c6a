// Guiders turn a network into the sampler's denoise callback D(x, sigma). CFGGuider batches the
// positive and negative conditionings into ONE UNet evaluation and combines the denoised predictions as
// ComfyUI's cfg_function: D = D_u + (D_c - D_u) * cfg (cfg 1 skips the negative pass unless a CFG++
// sampler needs it).
//
// Extension point for classifier guidance: a Guider subclass can evaluate a classifier's
// grad log p(y|x_t) (another graph-able network) in denoise() and add -sigma^2 * grad to D, i.e. shift the
// score; samplers only ever see the resulting D, so nothing else changes.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/models/sdxl_conditioner.h"
#include "engine/models/unet.h"
#include "engine/sampling/model_sampling.h"
#include "engine/sampling/sampler.h"

namespace vkf::sampling {

class Guider {
 public:
  virtual ~Guider() = default;
  virtual Denoised denoise(vk::Recorder& rec, const Tensor& x, double sigma, bool need_uncond) = 0;
  virtual const ModelSampling& model_sampling() const = 0;
  // Number of network evaluations so far (for benchmarks/tests).
  virtual uint64_t evaluations() const = 0;
};

// One conditioning entry (ComfyUI's [cond, {pooled_output, width, ...}]): cross-attention context
// [1 or B, T, D], the text tower's pooled output [1 or B, E] and the size values SDXL's vector input is
// built from.
struct Cond {
  Cond() = default;
  Cond(Tensor c, std::optional<Tensor> p = std::nullopt, models::SizeCond s = {})  // NOLINT: implicit from a context
      : context(std::move(c)), pooled(std::move(p)), size(s) {}
  Tensor context;
  std::optional<Tensor> pooled;
  models::SizeCond size;
};
using CondList = std::vector<Cond>;

class CfgGuider : public Guider {
 public:
  // `model_dtype`: the dtype the UNet weights use (inputs are cast to it). cfg = 1 with an empty negative
  // list is ComfyUI's BasicGuider. `family` ("sdxl", "sdxl_refiner") says how a UNet with a vector input
  // gets it from each entry's pooled output and sizes (models::sdxl_size_values); unused otherwise.
  CfgGuider(std::shared_ptr<const models::UNet> unet, std::shared_ptr<const ModelSampling> ms, CondList positive,
            CondList negative, double cfg, DType model_dtype, std::string family = "");
  Denoised denoise(vk::Recorder& rec, const Tensor& x, double sigma, bool need_uncond) override;
  const ModelSampling& model_sampling() const override { return *ms_; }
  uint64_t evaluations() const override { return evals_; }
  double cfg() const { return cfg_; }

 private:
  // Fills ctx_ (and y_ for a model with a vector input) for latents of shape `x`.
  void batched_context(vk::Recorder& rec, const Tensor& x, bool with_negative);
  std::shared_ptr<const models::UNet> unet_;
  std::shared_ptr<const ModelSampling> ms_;
  CondList pos_, neg_;
  double cfg_;
  DType dtype_;
  std::string family_;
  uint64_t evals_ = 0;
  // The batched context depends only on (latent shape, with_negative): built once per sampling run.
  int64_t ctx_batch_ = -1, ctx_h_ = -1, ctx_w_ = -1;
  bool ctx_neg_ = false;
  Tensor ctx_, y_;
};

// DenoiseFn over a guider for run_sampler().
DenoiseFn make_denoise_fn(Guider& g, bool need_uncond);

}  // namespace vkf::sampling
