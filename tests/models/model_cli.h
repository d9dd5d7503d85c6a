// Helpers for the model tests that drive the built `vkflow` binary: a per-process temp folder, running
// a command with captured output, and comparing safetensors outputs with references.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace vkf::test::models_cli {

namespace fs = std::filesystem;

inline fs::path golden_dir() { return fs::path(VKFLOW_SHARED_DIR) / "golden" / "sd1_tiny_a"; }
inline fs::path clip_vocab() { return fs::path(VKFLOW_SHARED_DIR) / "clip" / "bpe_simple_vocab_16e6.txt.gz"; }

// One folder per test process, removed at exit.
inline fs::path temp_dir() { return test::process_temp_dir("models"); }

inline std::string slurp(const fs::path& p) { return test::read_file(p); }

inline std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

using test::CliResult;

// Runs `PROGRAM ARGS` through the shell with stdout/stderr captured (stdin closed).
inline CliResult run_program(const std::string& program, const std::string& args) {
  return test::run_shell(program + " " + args);
}

inline CliResult vkflow(const std::string& args) { return run_program(quote(VKFLOW_BINARY), args); }

// `vkflow eval WHAT` on CKPT (+ CONFIG when not empty) with INPUTS, writing OUTPUT.
inline CliResult eval(const std::string& what, const fs::path& ckpt, const fs::path& config, const fs::path& inputs,
                      const fs::path& output, const std::string& extra = "") {
  std::string args = "eval " + what + " --checkpoint " + quote(ckpt) + " --inputs " + quote(inputs) + " --output " +
                     quote(output);
  if (!config.empty()) args += " --config " + quote(config);
  if (!extra.empty()) args += " " + extra;
  return vkflow(args);
}

// max|a-ref| / max|ref| (infinite on a size mismatch or any NaN).
inline double rel_err(const std::vector<float>& a, const std::vector<float>& ref) {
  if (a.size() != ref.size()) return INFINITY;
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(double(a[i]) - double(ref[i]));
    if (std::isnan(e)) return INFINITY;
    d = std::max(d, e);
    m = std::max(m, std::fabs(double(ref[i])));
  }
  return d / std::max(1e-30, m);
}

struct KeyErr {
  std::string key;
  double rel;
};

// Compares every tensor of `out` with the tensor of the same name in `ref` (shapes must match).
// Returns the per-key relative errors; `expected` keys must all be present in `out`.
inline std::vector<KeyErr> compare_files(const fs::path& out, const fs::path& ref, const std::vector<std::string>& expected) {
  auto o = io::SafeTensors::open(out);
  auto r = io::SafeTensors::open(ref);
  std::vector<KeyErr> errs;
  for (const auto& k : expected)
    if (!o.find(k)) errs.push_back({k + " (missing from output)", INFINITY});
  for (const auto& t : o.tensors()) {
    const auto& rt = r.at(t.name);
    if (rt.shape != t.shape) {
      errs.push_back({t.name + " shape " + io::shape_str(t.shape) + " != " + io::shape_str(rt.shape), INFINITY});
      continue;
    }
    errs.push_back({t.name, rel_err(o.to_f32(t), r.to_f32(rt))});
  }
  return errs;
}

}  // namespace vkf::test::models_cli
