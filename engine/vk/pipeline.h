// Compute pipelines, built once per (shader, specialization constants) and kept for the process. The
// driver-level VkPipelineCache persists under the user's cache dir (engine/vk/pipeline_cache_file.h);
// prepare() builds a set of pipelines on a few threads ahead of their first dispatch (at model load).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <vulkan/vulkan.h>

#include "engine/vk/handle.h"
#include "engine/vk/pipeline_cache_file.h"
#include "engine/vk/texel_format.h"

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
  // Bindings that are storage texel buffers of that format instead of storage buffers (None); the dispatch
  // passes Allocator::texel_view views for them.
  std::array<TexelFormat, 8> texel{};
  bool operator<(const PipelineDesc& o) const {
    return std::tie(shader, bindings, push_bytes, spec, texel) < std::tie(o.shader, o.bindings, o.push_bytes, o.spec, o.texel);
  }
  TexelFormat texel_format(uint32_t binding) const { return binding < texel.size() ? texel[binding] : TexelFormat::None; }
  VkDescriptorType type(uint32_t binding) const {
    return texel_format(binding) != TexelFormat::None ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  }
};

struct Pipeline {
  PipelineDesc desc;
  Handle<VkDescriptorSetLayout> set_layout;
  Handle<VkPipelineLayout> layout;
  Handle<VkPipeline> pipeline;
};

// Builds one pipeline on `dev` (cache may be VK_NULL_HANDLE); PipelineCache::get is the usual way.
std::unique_ptr<Pipeline> build_pipeline(VkDevice dev, VkPipelineCache cache, const PipelineDesc& desc);

class PipelineCache {
 public:
  // persist: load/save the driver cache file in pipeline_cache_dir(dir).
  PipelineCache(Context& ctx, bool persist, const std::filesystem::path& dir = {});
  ~PipelineCache();
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  // Thread-safe; concurrent calls for different descs build in parallel, for the same desc once.
  const Pipeline& get(const PipelineDesc& desc);
  // Builds every desc not built yet on up to `threads` threads (0: hardware threads), then saves the cache
  // file. Returns how many were built by this call.
  size_t prepare(const std::vector<PipelineDesc>& descs, unsigned threads = 0);
  size_t size() const;
  void save() const;
  // Marks desc as dispatched once ahead of time (pipeline_warm.h); false if it already was.
  bool mark_warmed(const PipelineDesc& desc);

  const std::filesystem::path& file() const { return file_; }
  size_t loaded_bytes() const { return loaded_bytes_; }  // driver data handed to vkCreatePipelineCache
  const std::string& load_note() const { return load_note_; }  // why a cache file was ignored, if it was
  CacheIdentity identity() const { return id_; }
  double build_ms() const;  // total time spent in vkCreateComputePipelines (all threads)

 private:
  struct Entry {
    std::once_flag once;
    std::unique_ptr<Pipeline> p;
  };
  std::unique_ptr<Pipeline> build(const PipelineDesc& desc);

  Context& ctx_;
  bool persist_;
  CacheIdentity id_;
  std::filesystem::path file_;
  size_t loaded_bytes_ = 0;
  std::string load_note_;
  Handle<VkPipelineCache> cache_;
  std::map<PipelineDesc, std::unique_ptr<Entry>> entries_;
  std::set<PipelineDesc> warmed_;
  mutable std::mutex mu_;     // guards entries_ (not the builds)
  mutable std::mutex save_mu_;
  mutable std::mutex stat_mu_;
  double build_ms_ = 0;
};

}  // namespace vkf::vk
