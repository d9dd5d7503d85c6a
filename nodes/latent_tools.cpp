// Latent tools from the seed's "encode -> manipulate -> decode" workflow: LatentInterpolate (ComfyUI's
// norm-preserving interpolation) and DDIMInversion (deterministic x0 -> x_t).
#include "engine/graph/registry.h"
#include "engine/ops/latent_interpolate.h"
#include "engine/sampling/ddim_inversion.h"
#include "engine/sampling/guider.h"
#include "engine/sampling/schedulers.h"
#include "nodes/value_types.h"

namespace vkf::nodes {
namespace {

using namespace graph;

NodeRegistrar latent_interpolate(NodeDef("LatentInterpolate")
                                     .display("Latent Interpolate")
                                     .category("latent/advanced")
                                     .input("samples1", "LATENT")
                                     .input("samples2", "LATENT")
                                     .input_float("ratio", 1.0, 0.0, 1.0, 0.01)
                                     .output("LATENT")
                                     .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
                                       vk::Recorder rec(gpu(ctx));
                                       Tensor o = ops::latent_interpolate(rec, in.get<Latent>("samples1").samples,
                                                                          in.get<Latent>("samples2").samples,
                                                                          float(in.get_float("ratio")));
                                       rec.submit();
                                       return {make_value("LATENT", Latent{o, std::nullopt}, o.bytes())};
                                     }));

NodeRegistrar ddim_inversion(
    NodeDef("DDIMInversion")
        .display("DDIM Inversion")
        .category("sampling")
        .description("Runs the eta=0 DDIM (probability-flow Euler) update backwards: clean latent -> noisy latent at the "
                     "schedule's first sigma. Regenerate with KSamplerAdvanced (add_noise disable, same steps/scheduler).")
        .input("model", "MODEL")
        .input("positive", "CONDITIONING")
        .input("latent_image", "LATENT")
        .input_int("steps", 50, 1, 1000)
        .input_combo("scheduler", sampling::scheduler_names, "normal")
        .output("LATENT")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          const auto& m = in.get<Model>("model");
          std::shared_ptr<const models::UNet> unet(m.ckpt, m.ckpt->unet.get());
          sampling::CfgGuider guider(unet, m.sampling, in.get<Conditioning>("positive").entries, {}, 1.0, m.ckpt->dtype,
                                     m.ckpt->config.family);
          auto sigmas = sampling::calculate_sigmas(*m.sampling, in.get_string("scheduler"), int(in.get_int("steps")));
          vk::Recorder rec(gpu(ctx));
          sampling::SamplerEnv env{rec, *m.sampling, sampling::make_denoise_fn(guider, false), nullptr,
                                   [&](int step, int total, const Tensor&, const Tensor&) {
                                     ctx.progress(uint64_t(step + 1), uint64_t(total));
                                     ctx.check_cancel();
                                   },
                                   nullptr};
          Tensor x = sampling::ddim_invert(env, in.get<Latent>("latent_image").samples, sigmas);
          return {make_value("LATENT", Latent{x, std::nullopt}, x.bytes())};
        }));

}  // namespace
}  // namespace vkf::nodes
