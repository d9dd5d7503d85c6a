// Runs a test under the device's own kernel family (index 0) or the other one (index 1), so lavapipe also
// checks the GPU kernels (register-blocked GEMM tiles, im2col + GEMM convolution) and a GPU the CPU ones.
// Index 2 is the CPU family with storage-buffer loads instead of texel views (ops::texel_loads), the path
// a buffer too big for a texel view or a misaligned view takes.
// Use: `const int family = GENERATE(0, 1, 2); test::KernelFamilyScope scope(family);`.
#pragma once
#include <string>

#include "engine/ops/kernel_family.h"
#include "tests/support/gpu.h"

namespace vkf::test {

class KernelFamilyScope {
 public:
  explicit KernelFamilyScope(int index) {
    const auto own = ops::kernel_family(gpu().info());
    const auto other = own == ops::KernelFamily::Cpu ? ops::KernelFamily::Gpu : ops::KernelFamily::Cpu;
    family_ = index == 0 ? own : index == 1 ? other : ops::KernelFamily::Cpu;
    texel_ = index != 2;
    ops::set_kernel_family_override(family_);
    ops::set_texel_loads_override(texel_);
  }
  ~KernelFamilyScope() {
    ops::set_kernel_family_override(std::nullopt);
    ops::set_texel_loads_override(std::nullopt);
  }
  KernelFamilyScope(const KernelFamilyScope&) = delete;
  KernelFamilyScope& operator=(const KernelFamilyScope&) = delete;
  std::string name() const {
    if (family_ == ops::KernelFamily::Gpu) return "gpu kernels";
    return texel_ ? "cpu kernels" : "cpu kernels, storage-buffer loads";
  }

 private:
  ops::KernelFamily family_;
  bool texel_ = true;
};

}  // namespace vkf::test
