#include "engine/sampling/sampler_case.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "engine/io/safetensors.h"
#include "engine/ops/lincomb.h"
#include "engine/sampling/analytic_denoiser.h"
#include "engine/sampling/sampler.h"
#include "engine/sampling/schedulers.h"
#include "engine/vk/recorder.h"

namespace vkf::sampling {

nlohmann::json parse_python_json(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_str = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_str) {
      out += ch;
      if (ch == '\\' && i + 1 < text.size()) out += text[++i];
      else if (ch == '"') in_str = false;
      continue;
    }
    if (ch == '"') in_str = true;
    bool replaced = false;
    for (const char* tok : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = std::char_traits<char>::length(tok);
      if (text.compare(i, n, tok) == 0) {
        out += "null";
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += ch;
  }
  return nlohmann::json::parse(out);
}

SamplerCase load_sampler_case(const std::filesystem::path& path) {
  auto st = io::SafeTensors::open(path);
  const std::string where = st.where();
  nlohmann::json j;
  try {
    j = parse_python_json(st.metadata().at("json").get<std::string>());
  } catch (const std::exception& e) {
    throw SamplingError(where + "metadata 'json' missing or invalid: " + e.what());
  }
  SamplerCase c;
  c.file = path.string();
  try {
    c.sampler = j.at("sampler").get<std::string>();
    c.scheduler = j.at("scheduler").get<std::string>();
    c.steps_requested = j.at("steps_requested").get<int>();
    if (!j.at("cfg").is_null()) c.cfg = j.at("cfg").get<double>();
    c.data_std = j.at("data_std").get<double>();
    const std::string model = j.at("model").get<std::string>();
    c.flow = model.find("CONST") != std::string::npos;
    if (c.flow) {
      std::smatch m;
      if (!std::regex_search(model, m, std::regex(R"(shift=([0-9.eE+-]+))")))
        throw SamplingError("flow model without shift=: '" + model + "'");
      c.shift = std::stod(m[1].str());
    }
  } catch (const nlohmann::json::exception& e) {
    throw SamplingError(where + "metadata field: " + e.what());
  }
  const auto& noise = st.at("noise");
  c.shape = Shape(noise.shape.begin(), noise.shape.end());
  c.noise = st.to_f32(noise);
  auto latent = [&](const char* name) {
    const auto& t = st.at(name);
    if (Shape(t.shape.begin(), t.shape.end()) != c.shape)
      throw SamplingError(where + "tensor '" + name + "' has shape " + io::shape_str(t.shape) + ", noise " +
                          shape_str(c.shape));
    return st.to_f32(t);
  };
  if (c.cfg) {
    c.mu_c = latent("mu_c");
    c.mu_u = latent("mu_u");
  } else {
    c.mu_c = latent("mu");
  }
  if (const auto* sn = st.find("step_noise")) c.step_noise = st.to_f32(*sn);
  return c;
}

SamplerCaseResult run_sampler_case(vk::Context& ctx, const SamplerCase& c, bool record_steps) {
  const ModelSampling ms = c.flow ? ModelSampling::flow(c.shift, 1000.0) : ModelSampling::discrete(Prediction::Eps);
  SamplerCaseResult res;
  res.sigmas = ksampler_sigmas(ms, c.scheduler, c.sampler, c.steps_requested);
  Tensor noise = from_host(ctx, c.shape, c.noise);
  Tensor mu_c = from_host(ctx, c.shape, c.mu_c);
  Tensor mu_u = c.mu_u.empty() ? Tensor() : from_host(ctx, c.shape, c.mu_u);
  AnalyticDenoiser den(mu_c, mu_u, c.data_std, c.flow, c.cfg.value_or(1.0));
  RecordedNoise rn(c.step_noise, c.shape);
  vk::Recorder rec(ctx);
  SamplerEnv env{rec, ms, den.fn(), &rn, {}, nullptr};
  if (record_steps)
    env.callback = [&](int, int, const Tensor& x, const Tensor& d) {
      res.x_steps.push_back(to_host(ctx, x));
      res.denoised_steps.push_back(to_host(ctx, d));
    };
  Tensor out = ksampler_sample(c.sampler, env, noise, Tensor(), res.sigmas);
  res.x_out = to_host(ctx, out);
  res.model_calls = den.calls();
  return res;
}

}  // namespace vkf::sampling
