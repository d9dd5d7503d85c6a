// Sampling nodes: KSampler, KSamplerAdvanced, SamplerCustomAdvanced and the custom-sampling pieces
// (KSamplerSelect, BasicScheduler, KarrasScheduler, ExponentialScheduler, SplitSigmas, RandomNoise,
// DisableNoise, CFGGuider, BasicGuider, ModelSamplingDiscrete).
#include <cmath>

#include "engine/graph/registry.h"
#include "engine/sampling/schedulers.h"
#include "nodes/sampling_run.h"

namespace vkf::nodes {
namespace {

using namespace graph;

// As ComfyUI: up to 10000 steps (over a 1000-timestep discrete schedule, steps beyond 1000 interpolate
// between its sigmas or repeat them, depending on the scheduler).
constexpr int kMaxSteps = 10000;

sampling::CondList contexts(const Conditioning& c) {
  sampling::CondList l;
  for (auto& e : c.entries) l.push_back(e.context);
  return l;
}

std::shared_ptr<sampling::Guider> cfg_guider(const Model& m, const Conditioning* pos, const Conditioning* neg, double cfg) {
  if (!std::isfinite(cfg)) throw std::invalid_argument("cfg must be a finite number");
  std::shared_ptr<const models::UNet> unet(m.ckpt, m.ckpt->unet.get());  // aliasing: keeps the checkpoint alive
  return std::make_shared<sampling::CfgGuider>(unet, m.sampling, contexts(*pos), neg ? contexts(*neg) : sampling::CondList{},
                                               cfg, m.ckpt->dtype);
}

std::optional<sampling::LatentRgbFactors> preview_rgb(const Model& m) { return sampling::latent_rgb_for(m.ckpt->config); }

const Tensor& latent_of(const Inputs& in, const char* name) { return in.get<Latent>(name).samples; }

Outputs latent_out(const Tensor& t) { return {make_value("LATENT", Latent{t, std::nullopt}, t.bytes())}; }

// The inputs KSampler and KSamplerAdvanced share, in ComfyUI's order: steps .. latent_image.
NodeDef& ksampler_inputs(NodeDef& d) {
  return d.input_int("steps", 20, 1, kMaxSteps)
      .input_float("cfg", 8.0, 0.0, 100.0, 0.1)
      .input_combo("sampler_name", sampling::sampler_names(), "euler")
      .input_combo("scheduler", sampling::scheduler_names(), "normal")
      .input("positive", "CONDITIONING")
      .input("negative", "CONDITIONING")
      .input("latent_image", "LATENT");
}

// The execution both KSamplers share: the CFG guider, the schedule `schedule(model_sampling, sampler_name)`,
// sampling of latent_image with `noise` (a schedule of fewer than two sigmas returns the latent unchanged,
// as ComfyUI).
template <class Schedule>
Outputs ksampler_run(NodeContext& ctx, const Inputs& in, Schedule schedule, const NoiseValue& noise) {
  const auto& m = in.get<Model>("model");
  auto guider =
      cfg_guider(m, &in.get<Conditioning>("positive"), &in.get<Conditioning>("negative"), in.get_float("cfg"));
  const std::string sampler = in.get_string("sampler_name");
  const std::vector<float> sigmas = schedule(*m.sampling, sampler);
  const Tensor& lat = latent_of(in, "latent_image");
  if (sigmas.size() < 2) return latent_out(lat);
  auto r = run_sampling(ctx, *guider, {sampler, {}}, sigmas, noise, lat, preview_rgb(m));
  return latent_out(r.samples);
}

NodeRegistrar ksampler(
    ksampler_inputs(NodeDef("KSampler")
                        .display("KSampler")
                        .category("sampling")
                        .description("Denoises a latent with a sampler and scheduler, classifier-free guided by "
                                     "positive/negative.")
                        .input("model", "MODEL")
                        .input_int("seed", 0, 0, nlohmann::json(UINT64_MAX)))
        .input_float("denoise", 1.0, 0.0, 1.0, 0.01)
        .output("LATENT")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto schedule = [&](const sampling::ModelSampling& ms, const std::string& sampler) {
            return sampling::ksampler_sigmas(ms, in.get_string("scheduler"), sampler, int(in.get_int("steps")),
                                             in.get_float("denoise"));
          };
          return ksampler_run(ctx, in, schedule, {false, in.get_uint64("seed")});
        }));

NodeRegistrar ksampler_advanced(
    ksampler_inputs(NodeDef("KSamplerAdvanced")
                        .display("KSampler (Advanced)")
                        .category("sampling")
                        .input("model", "MODEL")
                        .input_combo("add_noise", {"enable", "disable"}, "enable")
                        .input_int("noise_seed", 0, 0, nlohmann::json(UINT64_MAX)))
        .input_int("start_at_step", 0, 0, 10000)
        .input_int("end_at_step", 10000, 0, 10000)
        .input_combo("return_with_leftover_noise", {"disable", "enable"}, "disable")
        .output("LATENT")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          auto schedule = [&](const sampling::ModelSampling& ms, const std::string& sampler) {
            return sampling::slice_sigmas(sampling::ksampler_sigmas(ms, in.get_string("scheduler"), sampler,
                                                                    int(in.get_int("steps"))),
                                          int(in.get_int("start_at_step")), int(in.get_int("end_at_step")),
                                          in.get_string("return_with_leftover_noise") != "enable");
          };
          const NoiseValue noise{in.get_string("add_noise") == "disable", in.get_uint64("noise_seed")};
          return ksampler_run(ctx, in, schedule, noise);
        }));

NodeRegistrar sampler_custom_advanced(
    NodeDef("SamplerCustomAdvanced")
        .display("SamplerCustomAdvanced")
        .category("sampling/custom_sampling")
        .input("noise", "NOISE")
        .input("guider", "GUIDER")
        .input("sampler", "SAMPLER")
        .input("sigmas", "SIGMAS")
        .input("latent_image", "LATENT")
        .output("LATENT", "output")
        .output("LATENT", "denoised_output")
        .execute([](NodeContext& ctx, const Inputs& in) -> Outputs {
          const auto& gv = in.get<GuiderValue>("guider");
          auto r = run_sampling(ctx, *gv.guider, in.get<SamplerValue>("sampler"), in.get<SigmasValue>("sigmas").sigmas,
                                in.get<NoiseValue>("noise"), latent_of(in, "latent_image"), gv.latent_rgb);
          return {latent_out(r.samples)[0], latent_out(r.denoised)[0]};
        }));

NodeRegistrar ksampler_select(NodeDef("KSamplerSelect")
                                  .category("sampling/custom_sampling/samplers")
                                  .input_combo("sampler_name", sampling::sampler_names(), "euler")
                                  .output("SAMPLER")
                                  .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                    return {make_value("SAMPLER", SamplerValue{in.get_string("sampler_name"), {}})};
                                  }));

Outputs sigmas_out(std::vector<float> s) { return {make_value("SIGMAS", SigmasValue{std::move(s)})}; }

NodeRegistrar basic_scheduler(NodeDef("BasicScheduler")
                                  .category("sampling/custom_sampling/schedulers")
                                  .input("model", "MODEL")
                                  .input_combo("scheduler", sampling::scheduler_names(), "normal")
                                  .input_int("steps", 20, 1, kMaxSteps)
                                  .input_float("denoise", 1.0, 0.0, 1.0, 0.01)
                                  .output("SIGMAS")
                                  .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                    int steps = int(in.get_int("steps"));
                                    double denoise = in.get_float("denoise");
                                    if (denoise < 1.0) {
                                      if (denoise <= 0.0) return sigmas_out({});
                                      int total = int(double(steps) / denoise);  // ComfyUI BasicScheduler
                                      auto s = sampling::calculate_sigmas(*in.get<Model>("model").sampling,
                                                                          in.get_string("scheduler"), total);
                                      return sigmas_out(std::vector<float>(s.end() - (steps + 1), s.end()));
                                    }
                                    return sigmas_out(sampling::calculate_sigmas(*in.get<Model>("model").sampling,
                                                                                 in.get_string("scheduler"), steps));
                                  }));

NodeRegistrar karras_scheduler(NodeDef("KarrasScheduler")
                                   .category("sampling/custom_sampling/schedulers")
                                   .input_int("steps", 20, 1, kMaxSteps)
                                   .input_float("sigma_max", 14.614642, 0.0, 5000.0, 0.01)
                                   .input_float("sigma_min", 0.0291675, 0.0, 5000.0, 0.01)
                                   .input_float("rho", 7.0, 0.0, 100.0, 0.01)
                                   .output("SIGMAS")
                                   .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                     return sigmas_out(sampling::karras_sigmas(int(in.get_int("steps")), in.get_float("sigma_min"),
                                                                               in.get_float("sigma_max"), in.get_float("rho")));
                                   }));

NodeRegistrar exponential_scheduler(NodeDef("ExponentialScheduler")
                                        .category("sampling/custom_sampling/schedulers")
                                        .input_int("steps", 20, 1, kMaxSteps)
                                        .input_float("sigma_max", 14.614642, 0.0, 5000.0, 0.01)
                                        .input_float("sigma_min", 0.0291675, 0.0, 5000.0, 0.01)
                                        .output("SIGMAS")
                                        .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                          if (in.get_float("sigma_min") <= 0.0)
                                            throw std::invalid_argument("sigma_min must be > 0 for the exponential schedule");
                                          return sigmas_out(sampling::exponential_sigmas(
                                              int(in.get_int("steps")), in.get_float("sigma_min"), in.get_float("sigma_max")));
                                        }));

NodeRegistrar split_sigmas(NodeDef("SplitSigmas")
                               .category("sampling/custom_sampling/sigmas")
                               .input("sigmas", "SIGMAS")
                               .input_int("step", 0, 0, 10000)
                               .output("SIGMAS", "high_sigmas")
                               .output("SIGMAS", "low_sigmas")
                               .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                 const auto& s = in.get<SigmasValue>("sigmas").sigmas;
                                 size_t step = std::min<size_t>(size_t(in.get_int("step")), s.size());
                                 // ComfyUI: sigmas[:step+1], sigmas[step:]
                                 std::vector<float> hi(s.begin(), s.begin() + std::min(s.size(), step + 1)), lo(s.begin() + step, s.end());
                                 return {sigmas_out(hi)[0], sigmas_out(lo)[0]};
                               }));

NodeRegistrar random_noise(NodeDef("RandomNoise")
                               .category("sampling/custom_sampling/noise")
                               .input_int("noise_seed", 0, 0, nlohmann::json(UINT64_MAX))
                               .output("NOISE")
                               .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                 return {make_value("NOISE", NoiseValue{false, in.get_uint64("noise_seed")})};
                               }));

NodeRegistrar disable_noise(NodeDef("DisableNoise")
                                .category("sampling/custom_sampling/noise")
                                .output("NOISE")
                                .execute([](NodeContext&, const Inputs&) -> Outputs {
                                  return {make_value("NOISE", NoiseValue{true, 0})};
                                }));

NodeRegistrar cfg_guider_node(NodeDef("CFGGuider")
                                  .category("sampling/custom_sampling/guiders")
                                  .input("model", "MODEL")
                                  .input("positive", "CONDITIONING")
                                  .input("negative", "CONDITIONING")
                                  .input_float("cfg", 8.0, 0.0, 100.0, 0.1)
                                  .output("GUIDER")
                                  .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                    auto g = cfg_guider(in.get<Model>("model"), &in.get<Conditioning>("positive"),
                                                        &in.get<Conditioning>("negative"), in.get_float("cfg"));
                                    return {make_value("GUIDER", GuiderValue{g, preview_rgb(in.get<Model>("model"))})};
                                  }));

NodeRegistrar basic_guider(NodeDef("BasicGuider")
                               .category("sampling/custom_sampling/guiders")
                               .input("model", "MODEL")
                               .input("conditioning", "CONDITIONING")
                               .output("GUIDER")
                               .execute([](NodeContext&, const Inputs& in) -> Outputs {
                                 auto g = cfg_guider(in.get<Model>("model"), &in.get<Conditioning>("conditioning"), nullptr, 1.0);
                                 return {make_value("GUIDER", GuiderValue{g, preview_rgb(in.get<Model>("model"))})};
                               }));

NodeRegistrar model_sampling_discrete(
    NodeDef("ModelSamplingDiscrete")
        .category("advanced/model")
        .input("model", "MODEL")
        .input_combo("sampling", {"eps", "v_prediction", "lcm", "x0"}, "eps")
        .input_bool("zsnr", false)
        .output("MODEL")
        .execute([](NodeContext&, const Inputs& in) -> Outputs {
          Model m = in.get<Model>("model");
          const std::string s = in.get_string("sampling");
          auto pred = s == "v_prediction" ? sampling::Prediction::VPrediction
                      : s == "lcm"        ? sampling::Prediction::Lcm
                      : s == "x0"         ? sampling::Prediction::X0
                                          : sampling::Prediction::Eps;
          const auto& sc = m.ckpt->config.schedule;
          sampling::DiscreteConfig dc{sc.beta_schedule, sc.linear_start, sc.linear_end, sc.timesteps, in.get_bool("zsnr")};
          m.sampling = std::make_shared<sampling::ModelSampling>(sampling::ModelSampling::discrete(pred, dc));
          return {make_value("MODEL", m)};
        }));

}  // namespace
}  // namespace vkf::nodes
