#pragma once
// ComfyUI's model-sampling objects (comfy/model_sampling.py): the sigma table of a model and the
// conversions between the sampler's k-diffusion space and the network's input/output space.
//
// Numerics follow ComfyUI bit for bit where it matters for schedules: the discrete table is built in
// float64 and stored as float32, log_sigmas = float32(log(float64 sigmas)), and timestep()/sigma()
// run in float32 exactly as the torch code does on 0-dim tensors.
//
// Tensor conversions are exposed as per-sigma coefficients so that a GPU op can apply them as
// linear combinations (the sampler evaluates them once per step and batch item).
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace vkf::sampling {

struct SamplingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// out = a * x + b * y (which x and y are depends on the conversion; see ModelSampling).
struct Lin2 {
  double a = 0.0, b = 0.0;
};

// What the network predicts (ComfyUI model_sampling "prediction" classes).
enum class Prediction {
  Eps,          // EPS: noise
  VPrediction,  // V_PREDICTION: velocity (SD2.x 768-v)
  Const,        // CONST: flow matching (SD3, Flux-style rectified flow)
  X0,           // X0: the clean sample itself
  Lcm,          // LCM (nodes_model_advanced.LCM): EPS + consistency boundary condition
};
const char* prediction_name(Prediction p);

// ComfyUI model_config.sampling_settings for ModelSamplingDiscrete.
struct DiscreteConfig {
  std::string beta_schedule = "linear";  // linear (= LDM scaled linear), sqrt_linear, sqrt, cosine
  double linear_start = 0.00085;
  double linear_end = 0.012;
  int timesteps = 1000;
  bool zsnr = false;  // rescale to zero terminal SNR (last alphas_cumprod = 4.897e-8)
};

class ModelSampling {
 public:
  enum class Kind { Discrete, Flow };

  // ModelSamplingDiscrete (+ the prediction). Prediction::Lcm selects ComfyUI's
  // ModelSamplingDiscreteDistilled table (50 of the 1000 sigmas), as the ModelSamplingDiscrete node does.
  static ModelSampling discrete(Prediction prediction = Prediction::Eps, const DiscreteConfig& cfg = {});
  // ModelSamplingDiscreteFlow + CONST (the ModelSamplingSD3 node): sigma(t) = shift*t/(1+(shift-1)*t),
  // t = timestep / multiplier; table at t = (1..timesteps)/timesteps * multiplier.
  static ModelSampling flow(double shift = 1.0, double multiplier = 1000.0, int timesteps = 1000);

  Kind kind() const { return kind_; }
  Prediction prediction() const { return prediction_; }
  double sigma_data() const { return sigma_data_; }
  double shift() const { return shift_; }            // flow only
  double multiplier() const { return multiplier_; }  // flow only

  // Ascending float32 sigma table (ComfyUI `model_sampling.sigmas`) and its logs (discrete only).
  std::span<const float> sigmas() const { return sigmas_; }
  std::span<const float> log_sigmas() const { return log_sigmas_; }
  float sigma_min() const { return sigmas_.front(); }
  float sigma_max() const { return sigmas_.back(); }

  // Model timestep for a sigma. Discrete: index of the nearest log sigma (argmin, first on ties),
  // returned as float (ComfyUI returns int64; the model consumes it as float). Distilled (LCM):
  // index*skip + skip-1. Flow: sigma*multiplier. float32 arithmetic as ComfyUI.
  float timestep(float sigma) const;
  // Sigma of a (fractional) timestep: log-linear interpolation in the table (discrete), shift formula
  // (flow). float32 arithmetic as ComfyUI.
  float sigma(float timestep) const;
  // percent 0 -> start of sampling, 1 -> end. <= 0: 999999999.9 (discrete) / 1.0 (flow); >= 1: 0.
  double percent_to_sigma(double percent) const;

  // --- conversions (per batch item sigma) ---
  // calculate_input: model_input = c * x.
  double input_scale(double sigma) const;
  // calculate_denoised: denoised = a * model_input(x) + b * model_output.
  Lin2 denoised(double sigma) const;
  // noise_scaling: x_init = a * noise + b * latent_image.
  Lin2 noise_scaling(double sigma, bool max_denoise) const;
  // inverse_noise_scaling: out = c * latent.
  double inverse_noise_scaling(double sigma) const;
  // Sampler.max_denoise: sigmas[0] within rel 1e-5 of sigma_max, or above it.
  bool max_denoise(double first_sigma) const;

 private:
  ModelSampling() = default;
  int table_index(float sigma) const;  // argmin |log sigma - log_sigmas|

  Kind kind_ = Kind::Discrete;
  Prediction prediction_ = Prediction::Eps;
  double sigma_data_ = 1.0;
  double shift_ = 1.0, multiplier_ = 1000.0;
  int skip_steps_ = 0;  // > 0 for the distilled (LCM) table
  std::vector<float> sigmas_, log_sigmas_;
};

// Float64 betas of comfy.ldm.modules.diffusionmodules.util.make_beta_schedule.
std::vector<double> make_beta_schedule(const std::string& schedule, int timesteps, double linear_start,
                                       double linear_end, double cosine_s = 8e-3);

// The float64 sigma table of ModelSamplingDiscrete before its float32 cast:
// sqrt((1 - alphas_cumprod) / alphas_cumprod), zsnr-rescaled when cfg.zsnr.
std::vector<double> discrete_sigmas_f64(const DiscreteConfig& cfg);

// torch.linspace(start, end, steps) for float32 and float64, bit-exact with the CPU kernel of torch
// (start + step*i below steps/2, end - step*(steps-1-i) above, FMA-contracted; 256-bit vector chunks
// first; details in the .cpp). Verified on the SD1.x float64 table and the float32 schedules.
std::vector<float> torch_linspace_f32(float start, float end, int steps);
std::vector<double> torch_linspace_f64(double start, double end, int steps);

}  // namespace vkf::sampling
