// Runs a test under the device's own kernel family (index 0) or the other one (index 1), so lavapipe also
// checks the GPU kernels (register-blocked GEMM tiles, im2col + GEMM convolution) and a GPU the CPU ones.
// Use: `const int family = GENERATE(0, 1); test::KernelFamilyScope scope(family);`.
#pragma once
#include <string>

#include "engine/ops/kernel_family.h"
#include "tests/support/gpu.h"

namespace vkf::test {

class KernelFamilyScope {
 public:
  explicit KernelFamilyScope(int index) {
    const auto own = ops::kernel_family(gpu().info());
    family_ = index == 0 ? own : (own == ops::KernelFamily::Cpu ? ops::KernelFamily::Gpu : ops::KernelFamily::Cpu);
    ops::set_kernel_family_override(family_);
  }
  ~KernelFamilyScope() { ops::set_kernel_family_override(std::nullopt); }
  KernelFamilyScope(const KernelFamilyScope&) = delete;
  KernelFamilyScope& operator=(const KernelFamilyScope&) = delete;
  std::string name() const { return family_ == ops::KernelFamily::Cpu ? "cpu kernels" : "gpu kernels"; }

 private:
  ops::KernelFamily family_;
};

}  // namespace vkf::test
