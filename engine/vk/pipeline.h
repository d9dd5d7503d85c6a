// Compute pipelines, built once per (shader, specialization constants) and cached for the process;
// the driver-level VkPipelineCache is persisted under $XDG_CACHE_HOME/vkflow (or ~/.cache/vkflow).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <vulkan/vulkan.h>

#include "engine/vk/handle.h"

namespace vkf {
// Embedded SPIR-V by shader name (file path under shaders/ without .comp, '/' -> '_'), or a shader added
// at run time by add_runtime_shader.
std::span<const uint32_t> shader_spirv(const std::string& name);
// Adds SPIR-V under a new name (plugin kernels). Throws std::invalid_argument when the name is taken.
// The code is kept for the process lifetime (pipelines built from it are cached that long too).
void add_runtime_shader(const std::string& name, std::vector<uint32_t> spirv);
}  // namespace vkf

namespace vkf::vk {

class Context;

// What a pipeline needs to be built; also its contract for dispatches.
struct PipelineDesc {
  std::string shader;
  uint32_t bindings = 0;       // storage buffers at set 0, bindings 0..n-1
  uint32_t push_bytes = 0;     // push-constant block size
  std::vector<std::pair<uint32_t, uint32_t>> spec;  // (constant_id, value); ids 0..2 = local size x,y,z
  bool operator<(const PipelineDesc& o) const {
    return std::tie(shader, bindings, push_bytes, spec) < std::tie(o.shader, o.bindings, o.push_bytes, o.spec);
  }
};

struct Pipeline {
  PipelineDesc desc;
  Handle<VkDescriptorSetLayout> set_layout;
  Handle<VkPipelineLayout> layout;
  Handle<VkPipeline> pipeline;
};

class PipelineCache {
 public:
  PipelineCache(Context& ctx, bool persist);
  ~PipelineCache();
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  const Pipeline& get(const PipelineDesc& desc);
  size_t size() const;
  void save() const;

 private:
  Context& ctx_;
  bool persist_;
  std::string cache_file_;
  Handle<VkPipelineCache> cache_;
  std::map<PipelineDesc, std::unique_ptr<Pipeline>> pipelines_;
  mutable std::mutex mu_;
};

}  // namespace vkf::vk
