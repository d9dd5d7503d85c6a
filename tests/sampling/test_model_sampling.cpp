// ModelSampling conversions against model_sampling.safetensors (ComfyUI EPS / V_PREDICTION on the SD1.x
// table and CONST on ModelSamplingDiscreteFlow shift 3, all computed by ComfyUI in float32).
//
// We apply the per-sigma coefficients in float32 as a GPU op would: out = fl(fl(a*x) + fl(b*y)).
// ComfyUI evaluates the same formulas with a different op order (e.g. x*sd^2/(sigma^2+sd^2) divides
// per element), so the results differ by float32 rounding only. Tolerance: 4 * 2^-24 * (|a*x| + |b*y|),
// i.e. a few roundings of the largest term (the bound also covers cancellation near 0).
#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/sampling/model_sampling.h"

using namespace vkf::sampling;

namespace {

struct Golden {
  vkf::io::SafeTensors st;
  std::vector<float> get(const std::string& name) const { return st.to_f32(st.at(name)); }
};

const Golden& golden() {
  static const Golden g{vkf::io::SafeTensors::open(std::string(VKFLOW_SHARED_DIR) + "/golden/model_sampling.safetensors")};
  return g;
}

// Applies per-batch-item Lin2 coefficients to x, y ([B, ...]) in float32 and returns the worst
// error relative to the tolerance (<= 1 passes).
template <typename CoefFn>
double worst_ratio(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& ref,
                   size_t batch, CoefFn coef) {
  REQUIRE(x.size() == ref.size());
  REQUIRE(y.size() == ref.size());
  const size_t per = ref.size() / batch;
  double worst = 0.0;
  for (size_t b = 0; b < batch; ++b) {
    const Lin2 c = coef(b);
    const float a = static_cast<float>(c.a), bb = static_cast<float>(c.b);
    for (size_t i = b * per; i < (b + 1) * per; ++i) {
      const float ax = a * x[i];
      const float by = bb * y[i];
      const float out = ax + by;
      const double tol = 4.0 * 0x1p-24 * (std::fabs(double(ax)) + std::fabs(double(by))) + 1e-30;
      worst = std::max(worst, std::fabs(double(out) - double(ref[i])) / tol);
    }
  }
  return worst;
}

void check_case(const std::string& key, const ModelSampling& ms) {
  const Golden& g = golden();
  const std::vector<float> sigma = g.get(key + ".sigma");
  const size_t B = sigma.size();
  const std::vector<float> x = g.get("model_input"), out = g.get("model_output");
  const std::vector<float> noise = g.get("noise"), latent = g.get("latent_image");
  const std::vector<float> zeros(x.size(), 0.0f);

  SECTION(key + " calculate_input") {
    CHECK(worst_ratio(x, zeros, g.get(key + ".calculate_input"), B,
                      [&](size_t b) { return Lin2{ms.input_scale(sigma[b]), 0.0}; }) <= 1.0);
  }
  SECTION(key + " calculate_denoised") {
    CHECK(worst_ratio(x, out, g.get(key + ".calculate_denoised"), B,
                      [&](size_t b) { return ms.denoised(sigma[b]); }) <= 1.0);
  }
  SECTION(key + " noise_scaling") {
    CHECK(worst_ratio(noise, latent, g.get(key + ".noise_scaling"), B,
                      [&](size_t b) { return ms.noise_scaling(sigma[b], false); }) <= 1.0);
    CHECK(worst_ratio(noise, latent, g.get(key + ".noise_scaling_max_denoise"), B,
                      [&](size_t b) { return ms.noise_scaling(sigma[b], true); }) <= 1.0);
  }
  SECTION(key + " inverse_noise_scaling") {
    const std::vector<float> inv_sigma = g.get(key + ".inverse_noise_scaling_sigma");
    CHECK(worst_ratio(x, zeros, g.get(key + ".inverse_noise_scaling"), B,
                      [&](size_t b) { return Lin2{ms.inverse_noise_scaling(inv_sigma[b]), 0.0}; }) <= 1.0);
  }
  SECTION(key + " timestep") {
    const std::vector<float> ts = g.get(key + ".timestep");
    for (size_t b = 0; b < B; ++b) CHECK(ms.timestep(sigma[b]) == ts[b]);  // exact (index / sigma*1000)
  }
}

}  // namespace

TEST_CASE("EPS conversions (SD1.x)", "[cpu][sampling][model_sampling]") {
  check_case("eps", ModelSampling::discrete(Prediction::Eps));
}

TEST_CASE("V_PREDICTION conversions (SD1.x table)", "[cpu][sampling][model_sampling]") {
  check_case("v_prediction", ModelSampling::discrete(Prediction::VPrediction));
}

TEST_CASE("CONST flow conversions (shift 3)", "[cpu][sampling][model_sampling]") {
  check_case("flow_const_shift3", ModelSampling::flow(3.0, 1000.0));
}

TEST_CASE("golden metadata agrees with the modelled cases", "[cpu][sampling][model_sampling]") {
  const auto meta = nlohmann::json::parse(golden().st.metadata().at("json").get<std::string>());
  const auto& cases = meta.at("cases");
  CHECK(cases.at("eps").at("sigma_data").get<double>() == ModelSampling::discrete().sigma_data());
  const auto sig = cases.at("flow_const_shift3").at("sigma_per_batch_item").get<std::vector<double>>();
  REQUIRE(sig.size() == 3);
  const ModelSampling fl = ModelSampling::flow(3.0, 1000.0);
  // max_denoise is ignored by CONST, and sigma 1.0 is the flow table's sigma_max.
  CHECK(fl.max_denoise(sig[0]));
  CHECK(fl.noise_scaling(sig[1], true).a == fl.noise_scaling(sig[1], false).a);
}

TEST_CASE("ModelSampling errors and LCM table", "[cpu][sampling][model_sampling]") {
  CHECK_THROWS_AS(ModelSampling::discrete(Prediction::Const), SamplingError);
  DiscreteConfig bad;
  bad.beta_schedule = "squiggly";
  CHECK_THROWS_AS(ModelSampling::discrete(Prediction::Eps, bad), SamplingError);
  // ModelSamplingDiscreteDistilled keeps sigmas[999 - 20k] of the SD1.x table (float32 copies).
  const ModelSampling eps = ModelSampling::discrete(Prediction::Eps);
  const ModelSampling lcm = ModelSampling::discrete(Prediction::Lcm);
  REQUIRE(lcm.sigmas().size() == 50);
  for (int x = 0; x < 50; ++x) CHECK(lcm.sigmas()[49 - x] == eps.sigmas()[999 - 20 * x]);
  CHECK(lcm.timestep(lcm.sigma_max()) == 999.0f);
  CHECK(lcm.timestep(lcm.sigma_min()) == 19.0f);
}
