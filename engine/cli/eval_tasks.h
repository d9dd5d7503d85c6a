// Extra `vkflow eval <name>` targets (sampler, noise) registered from their own files.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/cli/args.h"

namespace vkf::cli {
struct EvalTask {
  std::string name;
  std::function<int(const Args&)> run;
};
inline std::vector<EvalTask>& eval_tasks() {
  static std::vector<EvalTask> t;
  return t;
}
struct EvalRegistrar {
  explicit EvalRegistrar(EvalTask t) { eval_tasks().push_back(std::move(t)); }
};
}  // namespace vkf::cli
