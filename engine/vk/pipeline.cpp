#include "engine/vk/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

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
std::vector<char> read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return {};
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

PipelineCache::PipelineCache(Context& ctx, bool persist, const std::filesystem::path& dir)
    : ctx_(ctx), persist_(persist) {
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(ctx.physical(), &props);
  id_.vendor_id = props.vendorID, id_.device_id = props.deviceID, id_.driver_version = props.driverVersion;
  std::memcpy(id_.uuid, props.pipelineCacheUUID, VK_UUID_SIZE);
  std::vector<char> blob;
  if (persist_) {
    const auto d = pipeline_cache_dir(dir);
    if (!d.empty()) file_ = d / pipeline_cache_file_name(id_);
    std::error_code ec;
    if (!file_.empty() && std::filesystem::exists(file_, ec)) {
      std::string why;
      if (auto b = unwrap_pipeline_cache(id_, read_all(file_), why)) {
        blob = std::move(*b);
      } else {
        load_note_ = why;
        std::cerr << "vkflow: note: ignoring pipeline cache " << file_.string() << ": " << why
                  << " (it will be rewritten)\n";
      }
    }
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = blob.size();
  ci.pInitialData = blob.empty() ? nullptr : blob.data();
  VkPipelineCache c = VK_NULL_HANDLE;
  if (vkCreatePipelineCache(ctx.device(), &ci, nullptr, &c) != VK_SUCCESS) {
    load_note_ = "the driver refused its data";
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    blob.clear();
    check(vkCreatePipelineCache(ctx.device(), &ci, nullptr, &c), "vkCreatePipelineCache");
  }
  loaded_bytes_ = blob.size();
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
  if (!persist_ || file_.empty()) return;
  std::lock_guard lock(save_mu_);
  size_t n = 0;
  if (vkGetPipelineCacheData(ctx_.device(), cache_, &n, nullptr) != VK_SUCCESS || n == 0) return;
  std::vector<char> data(n);
  if (vkGetPipelineCacheData(ctx_.device(), cache_, &n, data.data()) != VK_SUCCESS) return;
  data.resize(n);
  write_file_atomically(file_, wrap_pipeline_cache(id_, data));
}

size_t PipelineCache::size() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& [d, e] : entries_) n += e->p != nullptr;
  return n;
}

bool PipelineCache::mark_warmed(const PipelineDesc& desc) {
  std::lock_guard lock(mu_);
  return warmed_.insert(desc).second;
}

double PipelineCache::build_ms() const {
  std::lock_guard lock(stat_mu_);
  return build_ms_;
}

const Pipeline& PipelineCache::get(const PipelineDesc& desc) {
  Entry* e = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = entries_[desc];
    if (!slot) slot = std::make_unique<Entry>();
    e = slot.get();
  }
  // Outside the map lock: other descs build concurrently. vkCreateComputePipelines may share one
  // VkPipelineCache across threads (only a cache created EXTERNALLY_SYNCHRONIZED needs a guard).
  std::call_once(e->once, [&] { e->p = build(desc); });
  return *e->p;
}

size_t PipelineCache::prepare(const std::vector<PipelineDesc>& descs, unsigned threads) {
  std::vector<const PipelineDesc*> todo;
  {
    std::lock_guard lock(mu_);
    for (auto& d : descs) {
      auto it = entries_.find(d);
      if (it == entries_.end() || !it->second->p) todo.push_back(&d);
    }
  }
  if (todo.empty()) return 0;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, unsigned(todo.size()));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t i; (i = next++) < todo.size();) {
      try {
        get(*todo[i]);
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  save();
  return todo.size();
}

std::unique_ptr<Pipeline> PipelineCache::build(const PipelineDesc& desc) {
  const auto t0 = std::chrono::steady_clock::now();
  auto p = build_pipeline(ctx_.device(), cache_, desc);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard lock(stat_mu_);
  build_ms_ += ms;
  return p;
}

std::unique_ptr<Pipeline> build_pipeline(VkDevice dev, VkPipelineCache cache, const PipelineDesc& desc) {
  auto p = std::make_unique<Pipeline>();
  p->desc = desc;

  std::vector<VkDescriptorSetLayoutBinding> b(desc.bindings);
  for (uint32_t i = 0; i < desc.bindings; ++i)
    b[i] = {i, desc.type(i), 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
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
  check(vkCreateComputePipelines(dev, cache, 1, &ci, nullptr, &pipe), ("pipeline '" + desc.shader + "'").c_str());
  p->pipeline = Handle<VkPipeline>(pipe, [dev](auto h) { vkDestroyPipeline(dev, h, nullptr); });
  return p;
}

}  // namespace vkf::vk
