#include "engine/plugin/kernel_code.h"

#include <cstring>
#include <mutex>
#include <stdexcept>

#include <glslang/Public/ResourceLimits.h>
#include <glslang/Public/ShaderLang.h>
#include <glslang/SPIRV/GlslangToSpv.h>
#include <spirv-tools/libspirv.hpp>

namespace vkf::plugin {

std::vector<uint32_t> compile_glsl_compute(const std::string& source, const std::string& what) {
  static std::once_flag once;
  std::call_once(once, [] { glslang::InitializeProcess(); });  // process-wide; never finalized
  glslang::TShader shader(EShLangCompute);
  const char* text = source.c_str();
  shader.setStrings(&text, 1);
  shader.setEnvInput(glslang::EShSourceGlsl, EShLangCompute, glslang::EShClientVulkan, 100);
  shader.setEnvClient(glslang::EShClientVulkan, glslang::EShTargetVulkan_1_2);
  shader.setEnvTarget(glslang::EShTargetSpv, glslang::EShTargetSpv_1_5);
  const auto msgs = static_cast<EShMessages>(EShMsgSpvRules | EShMsgVulkanRules);
  if (!shader.parse(GetDefaultResources(), 450, false, msgs))
    throw std::runtime_error(what + ": GLSL does not compile: " + shader.getInfoLog());
  glslang::TProgram program;
  program.addShader(&shader);
  if (!program.link(msgs)) throw std::runtime_error(what + ": GLSL does not link: " + program.getInfoLog());
  std::vector<uint32_t> spirv;
  glslang::SpvOptions opt;
  opt.validate = true;
  glslang::GlslangToSpv(*program.getIntermediate(EShLangCompute), spirv, &opt);
  if (spirv.empty()) throw std::runtime_error(what + ": GLSL produced no SPIR-V");
  return spirv;
}

void validate_spirv(const std::vector<uint32_t>& spirv, const std::string& what) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) throw std::runtime_error(what + ": not a SPIR-V module");
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_2);
  std::string log;
  tools.SetMessageConsumer([&](spv_message_level_t, const char*, const spv_position_t& pos, const char* m) {
    if (log.size() < 2000) log += "word " + std::to_string(pos.index) + ": " + m + "; ";
  });
  if (!tools.Validate(spirv)) throw std::runtime_error(what + ": invalid SPIR-V: " + log);
  // OpEntryPoint GLCompute (model 5) named "main": opcode 15, words [model, id, name...].
  for (size_t i = 5; i < spirv.size();) {
    const uint32_t words = spirv[i] >> 16, op = spirv[i] & 0xffffu;
    if (words == 0 || i + words > spirv.size()) break;
    if (op == 15 && words >= 4 && spirv[i + 1] == 5) {
      const char* name = reinterpret_cast<const char*>(&spirv[i + 3]);
      if (std::string(name, strnlen(name, (words - 3) * 4)) == "main") return;
    }
    i += words;
  }
  throw std::runtime_error(what + ": SPIR-V has no GLCompute entry point named \"main\"");
}

}  // namespace vkf::plugin
