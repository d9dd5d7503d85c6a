#include "engine/vk/pipeline.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "engine/vk/check.h"
#include "engine/vk/context.h"
#include "engine/vk/loader.h"

namespace vkf {
const std::map<std::string, std::span<const uint32_t>>& shader_table();  // generated registry

namespace {
struct RuntimeShaders {
  std::mutex mu;
  std::map<std::string, std::vector<uint32_t>> code;  // node-based: spans stay valid
};
RuntimeShaders& runtime_shaders() {
  static RuntimeShaders r;
  return r;
}
}  // namespace

std::span<const uint32_t> shader_spirv(const std::string& name) {
  auto& t = shader_table();
  auto it = t.find(name);
  if (it != t.end()) return it->second;
  auto& rt = runtime_shaders();
  std::lock_guard lock(rt.mu);
  auto r = rt.code.find(name);
  if (r == rt.code.end()) throw std::runtime_error("no embedded shader named '" + name + "'");
  return r->second;
}

void add_runtime_shader(const std::string& name, std::vector<uint32_t> spirv) {
  auto& rt = runtime_shaders();
  std::lock_guard lock(rt.mu);
  if (shader_table().count(name) || rt.code.count(name))
    throw std::invalid_argument("shader name '" + name + "' is already taken");
  rt.code.emplace(name, std::move(spirv));
}
}  // namespace vkf

namespace vkf::vk {
namespace {
std::string cache_path(const DeviceInfo& info) {
  std::filesystem::path dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = x;
  else if (const char* h = std::getenv("HOME"); h && *h) dir = std::filesystem::path(h) / ".cache";
  else return {};
  std::string name = info.name;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return (dir / "vkflow" / ("pipelines_" + name + ".bin")).string();
}
}  // namespace

PipelineCache::PipelineCache(Context& ctx, bool persist) : ctx_(ctx), persist_(persist) {
  std::vector<char> data;
  if (persist_) {
    cache_file_ = cache_path(ctx.info());
    if (!cache_file_.empty()) {
      std::ifstream f(cache_file_, std::ios::binary);
      if (f) data.assign(std::istreambuf_iterator<char>(f), {});
    }
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  VkPipelineCache c = VK_NULL_HANDLE;
  if (vkCreatePipelineCache(ctx.device(), &ci, nullptr, &c) != VK_SUCCESS) {
    ci.initialDataSize = 0;  // stale or foreign cache file: start empty
    ci.pInitialData = nullptr;
    check(vkCreatePipelineCache(ctx.device(), &ci, nullptr, &c), "vkCreatePipelineCache");
  }
  VkDevice dev = ctx.device();
  cache_ = Handle<VkPipelineCache>(c, [dev](VkPipelineCache p) { vkDestroyPipelineCache(dev, p, nullptr); });
}

PipelineCache::~PipelineCache() {
  try {
    save();
  } catch (...) {  // a cache that cannot be written is not an error
  }
}

void PipelineCache::save() const {
  if (!persist_ || cache_file_.empty()) return;
  size_t n = 0;
  if (vkGetPipelineCacheData(ctx_.device(), cache_, &n, nullptr) != VK_SUCCESS || n == 0) return;
  std::vector<char> data(n);
  if (vkGetPipelineCacheData(ctx_.device(), cache_, &n, data.data()) != VK_SUCCESS) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cache_file_).parent_path(), ec);
  std::string tmp = cache_file_ + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) return;
    f.write(data.data(), std::streamsize(n));
  }
  std::filesystem::rename(tmp, cache_file_, ec);
}

size_t PipelineCache::size() const {
  std::lock_guard lock(mu_);
  return pipelines_.size();
}

const Pipeline& PipelineCache::get(const PipelineDesc& desc) {
  std::lock_guard lock(mu_);
  if (auto it = pipelines_.find(desc); it != pipelines_.end()) return *it->second;
  VkDevice dev = ctx_.device();
  auto p = std::make_unique<Pipeline>();
  p->desc = desc;

  std::vector<VkDescriptorSetLayoutBinding> b(desc.bindings);
  for (uint32_t i = 0; i < desc.bindings; ++i)
    b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dl.bindingCount = desc.bindings;
  dl.pBindings = b.data();
  VkDescriptorSetLayout sl = VK_NULL_HANDLE;
  check(vkCreateDescriptorSetLayout(dev, &dl, nullptr, &sl), "vkCreateDescriptorSetLayout");
  p->set_layout = Handle<VkDescriptorSetLayout>(sl, [dev](auto h) { vkDestroyDescriptorSetLayout(dev, h, nullptr); });

  VkPushConstantRange pr{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_bytes};
  VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &sl;
  pl.pushConstantRangeCount = desc.push_bytes ? 1 : 0;
  pl.pPushConstantRanges = &pr;
  VkPipelineLayout lay = VK_NULL_HANDLE;
  check(vkCreatePipelineLayout(dev, &pl, nullptr, &lay), "vkCreatePipelineLayout");
  p->layout = Handle<VkPipelineLayout>(lay, [dev](auto h) { vkDestroyPipelineLayout(dev, h, nullptr); });

  auto code = shader_spirv(desc.shader);
  VkShaderModuleCreateInfo sm{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  sm.codeSize = code.size() * 4;
  sm.pCode = code.data();
  VkShaderModule mod = VK_NULL_HANDLE;
  check(vkCreateShaderModule(dev, &sm, nullptr, &mod), "vkCreateShaderModule");
  Handle<VkShaderModule> module(mod, [dev](auto h) { vkDestroyShaderModule(dev, h, nullptr); });

  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint32_t> values;
  for (auto& [id, v] : desc.spec) {
    entries.push_back({id, uint32_t(values.size() * 4), 4});
    values.push_back(v);
  }
  VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), values.size() * 4, values.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = entries.empty() ? nullptr : &si;
  ci.layout = lay;
  VkPipeline pipe = VK_NULL_HANDLE;
  check(vkCreateComputePipelines(dev, cache_, 1, &ci, nullptr, &pipe), ("pipeline '" + desc.shader + "'").c_str());
  p->pipeline = Handle<VkPipeline>(pipe, [dev](auto h) { vkDestroyPipeline(dev, h, nullptr); });
  auto& ref = *p;
  pipelines_.emplace(desc, std::move(p));
  return ref;
}

}  // namespace vkf::vk
