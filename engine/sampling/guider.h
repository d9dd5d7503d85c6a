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
#include <vector>

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

// Cross-attention contexts of one conditioning input: each entry [1 or B, T, D].
using CondList = std::vector<Tensor>;

class CfgGuider : public Guider {
 public:
  // `model_dtype`: the dtype the UNet weights use (inputs are cast to it). cfg = 1 with an empty negative
  // list is ComfyUI's BasicGuider.
  CfgGuider(std::shared_ptr<const models::UNet> unet, std::shared_ptr<const ModelSampling> ms, CondList positive,
            CondList negative, double cfg, DType model_dtype);
  Denoised denoise(vk::Recorder& rec, const Tensor& x, double sigma, bool need_uncond) override;
  const ModelSampling& model_sampling() const override { return *ms_; }
  uint64_t evaluations() const override { return evals_; }
  double cfg() const { return cfg_; }

 private:
  Tensor batched_context(vk::Recorder& rec, int64_t batch, bool with_negative);
  std::shared_ptr<const models::UNet> unet_;
  std::shared_ptr<const ModelSampling> ms_;
  CondList pos_, neg_;
  double cfg_;
  DType dtype_;
  uint64_t evals_ = 0;
  // The batched context depends only on (batch, with_negative): built once per sampling run.
  int64_t ctx_batch_ = -1;
  bool ctx_neg_ = false;
  Tensor ctx_;
};

// DenoiseFn over a guider for run_sampler().
DenoiseFn make_denoise_fn(Guider& g, bool need_uncond);

}  // namespace vkf::sampling
