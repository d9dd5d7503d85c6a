// Plugin kernel code: GLSL compute source -> SPIR-V at run time (glslang), and validation of SPIR-V a
// plugin ships (SPIRV-Tools), so that a malformed module is refused at load instead of reaching the driver.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vkf::plugin {

// Compiles a #version 450 compute shader for Vulkan 1.2 / SPIR-V 1.5. Throws std::runtime_error with the
// compiler's log (prefixed by `what`) when it does not compile or link.
std::vector<uint32_t> compile_glsl_compute(const std::string& source, const std::string& what);
// Throws std::runtime_error (prefixed by `what`) unless `spirv` is a valid Vulkan 1.2 module with a
// GLCompute entry point "main".
void validate_spirv(const std::vector<uint32_t>& spirv, const std::string& what);

}  // namespace vkf::plugin
