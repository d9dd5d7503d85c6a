#include "engine/vk/pipeline_warm.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "engine/vk/check.h"
#include "engine/vk/context.h"
#include "engine/vk/loader.h"

namespace vkf::vk {
namespace {
constexpr uint64_t kScratchBytes = 4u << 20;  // every binding of every warm-up dispatch
constexpr uint32_t kMaxBindings = 12;

// A device like ctx's (same physical device, queue family and features), for warm-up dispatches only.
Handle<VkDevice> helper_device(Context& ctx) {
  const auto& info = ctx.info();
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = ctx.queue_family();
  qci.queueCount = 1;
  qci.pQueuePriorities = &prio;
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &f11};
  f11.storageBuffer16BitAccess = info.fp16_storage;
  f12.shaderFloat16 = info.fp16_math;
  f12.shaderInt8 = info.int8;
  f12.storageBuffer8BitAccess = info.int8;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12};
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &feats};
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  VkDevice dev = VK_NULL_HANDLE;
  check(vkCreateDevice(ctx.physical(), &dci, nullptr, &dev), "vkCreateDevice (pipeline warm-up)");
  // Device-level entry points are the driver's (one ICD), the ones loaded for the main device serve here.
  return Handle<VkDevice>(dev, [](VkDevice d) {
    vkDeviceWaitIdle(d);
    vkDestroyDevice(d, nullptr);
  });
}

// One submit on `queue` with one single-workgroup dispatch per pipeline. Raw Vulkan objects of its own
// (not the context's allocator or recorder), so helper devices and the main one run the same code.
void dispatch_once(VkDevice dev, uint32_t family, VkQueue queue, std::mutex* queue_mu,
                   const std::vector<const Pipeline*>& pipes) {
  if (pipes.empty()) return;
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = texel_key_size(kScratchBytes);  // off a power of two, like every real buffer (texel_format.h)
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  VkBuffer b = VK_NULL_HANDLE;
  check(vkCreateBuffer(dev, &bi, nullptr, &b), "vkCreateBuffer (warm-up)");
  Handle<VkBuffer> buf(b, [dev](VkBuffer h) { vkDestroyBuffer(dev, h, nullptr); });
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev, b, &req);
  VkMemoryAllocateInfo mi{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mi.allocationSize = req.size;
  while (!(req.memoryTypeBits >> mi.memoryTypeIndex & 1u)) ++mi.memoryTypeIndex;  // any type fits scratch
  VkDeviceMemory m = VK_NULL_HANDLE;
  check(vkAllocateMemory(dev, &mi, nullptr, &m), "vkAllocateMemory (warm-up)");
  Handle<VkDeviceMemory> mem(m, [dev](VkDeviceMemory h) { vkFreeMemory(dev, h, nullptr); });
  check(vkBindBufferMemory(dev, b, m, 0), "vkBindBufferMemory (warm-up)");
  // Views for texel bindings (PipelineDesc::texel), one per format, destroyed before the buffer.
  Handle<VkBufferView> views[kTexelFormats];
  VkBufferView raw_views[kTexelFormats] = {};
  for (int f = 0; f < kTexelFormats; ++f) {
    VkBufferViewCreateInfo vi{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
    vi.buffer = b;
    vi.format = vk_format(TexelFormat(f + 1));
    vi.range = kScratchBytes;
    VkBufferView v = VK_NULL_HANDLE;
    check(vkCreateBufferView(dev, &vi, nullptr, &v), "vkCreateBufferView (warm-up)");
    views[f] = Handle<VkBufferView>(v, [dev](VkBufferView h) { vkDestroyBufferView(dev, h, nullptr); });
    raw_views[f] = v;
  }

  VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, uint32_t(pipes.size()) * kMaxBindings},
                                {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, uint32_t(pipes.size()) * kMaxBindings}};
  VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pi.maxSets = uint32_t(pipes.size());
  pi.poolSizeCount = 2;
  pi.pPoolSizes = ps;
  VkDescriptorPool dp = VK_NULL_HANDLE;
  check(vkCreateDescriptorPool(dev, &pi, nullptr, &dp), "vkCreateDescriptorPool (warm-up)");
  Handle<VkDescriptorPool> pool(dp, [dev](VkDescriptorPool h) { vkDestroyDescriptorPool(dev, h, nullptr); });

  VkCommandPoolCreateInfo ci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  ci.queueFamilyIndex = family;
  VkCommandPool cp = VK_NULL_HANDLE;
  check(vkCreateCommandPool(dev, &ci, nullptr, &cp), "vkCreateCommandPool (warm-up)");
  Handle<VkCommandPool> cmd_pool(cp, [dev](VkCommandPool h) { vkDestroyCommandPool(dev, h, nullptr); });
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = cp;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  check(vkAllocateCommandBuffers(dev, &ai, &cb), "vkAllocateCommandBuffers (warm-up)");
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence f = VK_NULL_HANDLE;
  check(vkCreateFence(dev, &fi, nullptr, &f), "vkCreateFence (warm-up)");
  Handle<VkFence> fence(f, [dev](VkFence h) { vkDestroyFence(dev, h, nullptr); });

  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cb, &begin), "vkBeginCommandBuffer (warm-up)");
  vkCmdFillBuffer(cb, b, 0, VK_WHOLE_SIZE, 0);
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr,
                       0, nullptr);
  const std::vector<uint32_t> zeros(64, 0);  // push constants: every size zero
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  for (const Pipeline* p : pipes) {
    if (p->desc.bindings > kMaxBindings || p->desc.push_bytes > zeros.size() * 4) continue;
    VkDescriptorSetLayout sl = p->set_layout;
    VkDescriptorSetAllocateInfo si{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    si.descriptorPool = dp;
    si.descriptorSetCount = 1;
    si.pSetLayouts = &sl;
    VkDescriptorSet set = VK_NULL_HANDLE;
    check(vkAllocateDescriptorSets(dev, &si, &set), "vkAllocateDescriptorSets (warm-up)");
    VkDescriptorBufferInfo info{b, 0, kScratchBytes};
    VkWriteDescriptorSet w[kMaxBindings];
    for (uint32_t i = 0; i < p->desc.bindings; ++i) {
      w[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      w[i].dstSet = set, w[i].dstBinding = i, w[i].descriptorCount = 1;
      w[i].descriptorType = p->desc.type(i);
      w[i].pBufferInfo = &info;
      if (w[i].descriptorType == VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER)
        w[i].pBufferInfo = nullptr, w[i].pTexelBufferView = &raw_views[int(p->desc.texel_format(i)) - 1];
    }
    vkUpdateDescriptorSets(dev, p->desc.bindings, w, 0, nullptr);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, nullptr);
    if (p->desc.push_bytes)
      vkCmdPushConstants(cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->desc.push_bytes, zeros.data());
    vkCmdDispatch(cb, 1, 1, 1);
    // Kernels share the scratch buffer: keep them ordered (their output is garbage either way).
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
  }
  check(vkEndCommandBuffer(cb), "vkEndCommandBuffer (warm-up)");
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cb;
  {
    std::unique_lock<std::mutex> lock;
    if (queue_mu) lock = std::unique_lock(*queue_mu);
    check(vkQueueSubmit(queue, 1, &submit, f), "vkQueueSubmit (warm-up)");
  }
  check(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences (warm-up)");
}

// Mesa's on-disk shader cache carries a helper device's compile to the main device; without it (disabled by
// the user) helpers would only duplicate work.
bool mesa_cache_enabled() {
  const char* e = std::getenv("MESA_SHADER_CACHE_DISABLE");
  if (!e) e = std::getenv("MESA_GLSL_CACHE_DISABLE");
  return !e || std::string(e) == "0" || std::string(e) == "false";
}
}  // namespace

PrepareStats prepare_pipelines(Context& ctx, const std::vector<PipelineDesc>& descs, unsigned threads) {
  const auto t0 = std::chrono::steady_clock::now();
  PrepareStats st;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto& cache = ctx.pipelines();
  st.built = cache.prepare(descs, threads);
  std::vector<const PipelineDesc*> todo;
  if (ctx.info().is_cpu())
    for (auto& d : descs)
      if (cache.mark_warmed(d)) todo.push_back(&d);
  st.warmed = todo.size();
  if (!todo.empty()) {
    // Shares: the main device takes share 0 while helper devices (own pipelines) compile the others.
    const unsigned n = mesa_cache_enabled() ? std::min<unsigned>({threads, 4u, unsigned(todo.size())}) : 1u;
    std::vector<std::vector<const PipelineDesc*>> share(n);
    for (size_t i = 0; i < todo.size(); ++i) share[i % n].push_back(todo[i]);
    std::vector<std::thread> helpers;
    for (unsigned h = 1; h < n; ++h)
      helpers.emplace_back([&, h] {
        try {
          auto dev = helper_device(ctx);
          VkQueue q = VK_NULL_HANDLE;
          vkGetDeviceQueue(dev, ctx.queue_family(), 0, &q);
          std::vector<std::unique_ptr<Pipeline>> own;
          std::vector<const Pipeline*> ptrs;
          for (auto* d : share[h]) ptrs.push_back((own.emplace_back(build_pipeline(dev, VK_NULL_HANDLE, *d))).get());
          dispatch_once(dev, ctx.queue_family(), q, nullptr, ptrs);
        } catch (...) {  // not fatal: the main device compiles this share in its second pass
        }
      });
    auto on_main = [&](const std::vector<const PipelineDesc*>& ds) {
      std::vector<const Pipeline*> ptrs;
      for (auto* d : ds) ptrs.push_back(&cache.get(*d));
      dispatch_once(ctx.device(), ctx.queue_family(), ctx.queue(), &ctx.queue_mutex(), ptrs);
    };
    on_main(share[0]);
    for (auto& t : helpers) t.join();
    // The helpers' shares on the main device: Mesa's shader cache has their code now.
    std::vector<const PipelineDesc*> rest;
    for (unsigned h = 1; h < n; ++h) rest.insert(rest.end(), share[h].begin(), share[h].end());
    on_main(rest);
    st.devices = n;
  }
  st.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace vkf::vk
