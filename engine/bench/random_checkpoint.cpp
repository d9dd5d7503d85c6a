#include "engine/bench/random_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/io/st_synth.h"

namespace vkf::bench {
namespace {

namespace fs = std::filesystem;

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Removes the temporary file when loading is done (or failed).
struct TempFile {
  fs::path path;
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

bool selected(const std::string& name, const models::LoadOptions& opt) {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  return (opt.unet && starts(models::kUNetPrefix)) || (opt.vae && starts(models::kVaePrefix)) ||
         (opt.text && (starts(models::kTextPrefix) || starts(models::kSd2TextPrefix) || starts("conditioner.embedders.")));
}

}  // namespace

void pseudo_normal(std::span<float> out, uint64_t seed, float scale) {
  // Sum of 4 U(0,1) has mean 2 and variance 4/12; sqrt(3) rescales it to unit variance.
  const float k = scale * std::sqrt(3.0f) / 65536.0f;
  uint64_t s = seed;
  for (float& v : out) {
    uint64_t r = splitmix64(s);
    float sum = float((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    v = (sum - 2.0f * 65536.0f) * k;
  }
}

fs::path find_manifest(const std::string& file, const std::optional<fs::path>& explicit_path) {
  if (explicit_path) {
    if (!fs::is_regular_file(*explicit_path)) throw std::runtime_error("--manifest " + explicit_path->string() + ": no such file");
    return *explicit_path;
  }
  std::string tried;
  for (fs::path dir = fs::current_path();; dir = dir.parent_path()) {
    for (const fs::path& c : {dir / ".." / "shared" / "golden" / file, dir / "shared" / "golden" / file}) {
      if (fs::is_regular_file(c)) return c.lexically_normal();
      tried += "\n  " + c.lexically_normal().string();
    }
    if (dir == dir.parent_path()) break;
  }
  throw std::runtime_error("cannot find the layout manifest " + file + " (pass --manifest PATH); tried:" + tried);
}

std::shared_ptr<models::Checkpoint> random_checkpoint(vk::Context& ctx, const fs::path& manifest,
                                                      const models::LoadOptions& opt, uint64_t seed) {
  nlohmann::json m;
  {
    std::ifstream f(manifest);
    if (!f) throw std::runtime_error(manifest.string() + ": cannot open");
    try {
      f >> m;
    } catch (const std::exception& e) {
      throw std::runtime_error(manifest.string() + ": bad JSON: " + e.what());
    }
  }
  if (!m.contains("tensors") || !m["tensors"].is_array())
    throw std::runtime_error(manifest.string() + ": no \"tensors\" array");
  // Float tensors are stored in the compute dtype so loading the (zero) file is a plain copy.
  const bool f16 = opt.dtype && *opt.dtype == DType::F16;
  std::vector<io::SynthTensor> specs;
  for (const auto& t : m["tensors"]) {
    io::SynthTensor s;
    try {
      s.name = t.at("name").get<std::string>();
      s.shape = t.at("shape").get<std::vector<int64_t>>();
      auto dt = io::parse_dtype(t.at("dtype").get<std::string>());
      if (!dt) throw std::runtime_error("unknown dtype for " + s.name);
      s.dtype = *dt == io::StDType::F32 && f16 ? io::StDType::F16 : *dt;
    } catch (const std::exception& e) {
      throw std::runtime_error(manifest.string() + ": bad tensor entry: " + e.what());
    }
    specs.push_back(std::move(s));
  }
  TempFile tmp{fs::temp_directory_path() / ("vkflow-bench-random-" + std::to_string(::getpid()) + ".safetensors")};
  io::write_sparse_safetensors(tmp.path, specs);
  models::LoadOptions lo = opt;
  auto ck = models::load_checkpoint(ctx, tmp.path, lo);
  ck->path = "sd15-random";

  std::vector<float> buf;
  uint64_t index = 0;
  for (const auto& s : specs) {
    ++index;
    if (!selected(s.name, opt) || !ck->weights->has(s.name)) continue;
    const Tensor& t = ck->weights->get(s.name);
    buf.resize(size_t(t.numel()));
    const bool norm_scale = s.shape.size() == 1 && s.name.size() > 7 && s.name.ends_with(".weight");
    if (norm_scale) {
      std::fill(buf.begin(), buf.end(), 1.0f);
    } else {
      uint64_t st = seed * 0x100000001B3ull + index;
      pseudo_normal(buf, splitmix64(st), 0.02f);
    }
    upload(ctx, t, buf);  // overwrites the zeros in place (the Tensor's buffer is shared)
  }
  return ck;
}

}  // namespace vkf::bench
