#include "nodes/sampling_run.h"

#include "engine/graph/errors.h"
#include "engine/ops/lincomb.h"
#include "engine/sampling/torch_rng.h"
#include "nodes/finite_check.h"

namespace vkf::nodes {

SampleResult run_sampling(graph::NodeContext& ctx, sampling::Guider& guider, const SamplerValue& sampler,
                          const std::vector<float>& sigmas, const NoiseValue& noise, const Tensor& latent,
                          const std::optional<sampling::LatentRgbFactors>& preview_rgb) {
  auto& g = gpu(ctx);
  if (sigmas.size() < 2) throw std::invalid_argument("sigmas must hold at least 2 values (got " + std::to_string(sigmas.size()) + ")");
  if (latent.dtype() != DType::F32) throw std::invalid_argument("latent must be f32");
  // ComfyUI prepare_noise: torch.manual_seed(seed); torch.randn(latent.shape) on the CPU.
  std::vector<float> host = noise.disabled ? std::vector<float>(size_t(latent.numel()), 0.0f)
                                           : sampling::torch_randn(noise.seed, latent.shape());
  Tensor n = from_host(g, latent.shape(), host);
  vk::Recorder rec(g);
  sampling::SeededNoise step_noise(noise.seed);
  Tensor last_denoised;
  const int steps = int(sigmas.size()) - 1;
  std::optional<sampling::LatentPreviewer> previewer;
  if (ctx.wants_previews() && preview_rgb) previewer.emplace(g, *preview_rgb);
  // Slot s < steps: the denoised prediction of step s+1; slot `steps`: the sampled latent.
  FiniteCheck finite(ctx, g, steps + 1);
  sampling::SamplerEnv env{rec, guider.model_sampling(),
                           sampling::make_denoise_fn(guider, sampling::sampler_needs_uncond(sampler.name)),
                           &step_noise,
                           [&](int step, int total, const Tensor&, const Tensor& denoised) {
                             // a copy: the sampler may reuse its buffers in later steps
                             if (denoised.defined()) last_denoised = ops::lincomb(rec, {{1.0f, &denoised}});
                             finite.record(rec, denoised, std::min(step, steps - 1));
                             std::shared_ptr<const sampling::PreviewImage> pv;
                             if (previewer && denoised.defined()) pv = previewer->make(rec, denoised);
                             ctx.progress(uint64_t(step + 1), uint64_t(total > 0 ? total : steps), std::move(pv));
                             ctx.check_cancel();
                           },
                           nullptr,
                           [&] { ctx.check_cancel(); }};
  Tensor out = sampling::ksampler_sample(sampler.name, env, n, latent, sigmas, sampler.options);
  finite.record(rec, out, steps);
  rec.submit();
  finite.require_finite([&](int64_t s) {
    return s < steps ? "the denoised prediction of step " + std::to_string(s + 1) + " of " + std::to_string(steps)
                     : std::string("the sampled latent");
  });
  return {out, last_denoised.defined() ? last_denoised : out};
}

}  // namespace vkf::nodes
