#include "editor/vk_window.h"

#define GLFW_INCLUDE_NONE
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_vulkan.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "editor/offscreen_target.h"
#include "editor/x11_shm.h"
#include "engine/io/png.h"
#include "engine/vk/context.h"

namespace vkf::editor {
namespace {

void vkcheck(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string("vkflow-editor: ") + what + " failed (VkResult " + std::to_string(int(r)) + ")");
}

void imgui_check(VkResult r) {
  if (r != VK_SUCCESS) throw std::runtime_error("vkflow-editor: ImGui Vulkan backend call failed (VkResult " + std::to_string(int(r)) + ")");
}

void glfw_error(int code, const char* msg) {
  (void)code;
  std::fprintf(stderr, "vkflow-editor: GLFW: %s\n", msg);
}

// The one-time command buffer the font upload uses.
template <class F>
void one_shot(vk::Context& ctx, VkCommandPool pool, F f) {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  vkcheck(vkAllocateCommandBuffers(ctx.device(), &ai, &cmd), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vkBeginCommandBuffer(cmd, &bi);
  f(cmd);
  vkEndCommandBuffer(cmd);
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence = VK_NULL_HANDLE;
  vkcheck(vkCreateFence(ctx.device(), &fi, nullptr, &fence), "vkCreateFence");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  {
    std::lock_guard lock(ctx.queue_mutex());
    vkcheck(vkQueueSubmit(ctx.queue(), 1, &si, fence), "vkQueueSubmit");
  }
  vkWaitForFences(ctx.device(), 1, &fence, VK_TRUE, UINT64_MAX);
  vkDestroyFence(ctx.device(), fence, nullptr);
  vkFreeCommandBuffers(ctx.device(), pool, 1, &cmd);
}

}  // namespace

VkWindow::VkWindow(int width, int height, const std::string& title, int device) {
  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) throw std::runtime_error("vkflow-editor: cannot open a window (no display? set DISPLAY or use xvfb-run)");
  if (!glfwVulkanSupported()) throw std::runtime_error("vkflow-editor: GLFW finds no Vulkan loader");
  glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
  win_ = glfwCreateWindow(width, height, title.c_str(), nullptr, nullptr);
  if (!win_) throw std::runtime_error("vkflow-editor: glfwCreateWindow failed");

  vk::ContextOptions opts;
  opts.device = device;
  uint32_t n = 0;
  const char** exts = glfwGetRequiredInstanceExtensions(&n);
  for (uint32_t i = 0; i < n; ++i) opts.instance_extensions.emplace_back(exts[i]);
  opts.device_extensions.emplace_back(VK_KHR_SWAPCHAIN_EXTENSION_NAME);
  opts.present_filter = [](VkInstance inst, VkPhysicalDevice pd, uint32_t family) {
    return glfwGetPhysicalDevicePresentationSupport(inst, pd, family) == GLFW_TRUE;
  };
  ctx_ = std::make_shared<vk::Context>(opts);
  vkcheck(glfwCreateWindowSurface(ctx_->instance(), win_, nullptr, &surface_), "glfwCreateWindowSurface");
  VkBool32 ok = VK_FALSE;
  vkGetPhysicalDeviceSurfaceSupportKHR(ctx_->physical(), ctx_->queue_family(), surface_, &ok);
  if (!ok) throw std::runtime_error("vkflow-editor: the chosen queue cannot present to this window");

  uint32_t nf = 0;
  vkGetPhysicalDeviceSurfaceFormatsKHR(ctx_->physical(), surface_, &nf, nullptr);
  std::vector<VkSurfaceFormatKHR> fmts(nf);
  vkGetPhysicalDeviceSurfaceFormatsKHR(ctx_->physical(), surface_, &nf, fmts.data());
  if (fmts.empty()) throw std::runtime_error("vkflow-editor: the surface offers no format");
  format_ = fmts[0].format, color_space_ = fmts[0].colorSpace;
  for (auto& f : fmts)  // UNORM: ImGui's colours are already sRGB-encoded
    if (f.format == VK_FORMAT_B8G8R8A8_UNORM || f.format == VK_FORMAT_R8G8B8A8_UNORM) {
      format_ = f.format, color_space_ = f.colorSpace;
      break;
    }
  uint32_t np = 0;
  vkGetPhysicalDeviceSurfacePresentModesKHR(ctx_->physical(), surface_, &np, nullptr);
  std::vector<VkPresentModeKHR> modes(np);
  vkGetPhysicalDeviceSurfacePresentModesKHR(ctx_->physical(), surface_, &np, modes.data());
  // Mailbox: no tearing, no waiting for vblank; VKFLOW_EDITOR_PRESENT=immediate|fifo for comparisons.
  const char* want = std::getenv("VKFLOW_EDITOR_PRESENT");
  std::string w = want ? want : "";
  VkPresentModeKHR pref = w == "immediate" ? VK_PRESENT_MODE_IMMEDIATE_KHR : w == "fifo" ? VK_PRESENT_MODE_FIFO_KHR : VK_PRESENT_MODE_MAILBOX_KHR;
  for (auto m : modes)
    if (m == pref) present_mode_ = m;
  split_timing_ = std::getenv("VKFLOW_EDITOR_SPLIT_TIMING") != nullptr;
  if (std::getenv("VKFLOW_EDITOR_VERBOSE"))
    std::fprintf(stderr, "vkflow-editor: present mode %d (%zu offered)\n", int(present_mode_), modes.size());
  open_shm_present();
  if (shm_) format_ = VK_FORMAT_B8G8R8A8_UNORM;  // the X image's byte order
  if (std::getenv("VKFLOW_EDITOR_VERBOSE")) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(ctx_->physical(), &props);
    std::fprintf(stderr, "vkflow-editor: %s (%s device): frames presented through %s\n", props.deviceName,
                 props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? "cpu" : "gpu", present_mode_name());
  }

  VkAttachmentDescription att{};
  att.format = format_;
  att.samples = VK_SAMPLE_COUNT_1_BIT;
  att.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  att.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  att.finalLayout = shm_ ? VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL : VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
  VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
  VkSubpassDescription sub{};
  sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  sub.colorAttachmentCount = 1;
  sub.pColorAttachments = &ref;
  VkSubpassDependency dep{};
  dep.srcSubpass = VK_SUBPASS_EXTERNAL;
  dep.dstSubpass = 0;
  dep.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  dep.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  dep.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  VkRenderPassCreateInfo rpi{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
  rpi.attachmentCount = 1;
  rpi.pAttachments = &att;
  rpi.subpassCount = 1;
  rpi.pSubpasses = &sub;
  rpi.dependencyCount = 1;
  rpi.pDependencies = &dep;
  vkcheck(vkCreateRenderPass(ctx_->device(), &rpi, nullptr, &render_pass_), "vkCreateRenderPass");

  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 16};
  VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  dpi.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  dpi.maxSets = 16;
  dpi.poolSizeCount = 1;
  dpi.pPoolSizes = &ps;
  vkcheck(vkCreateDescriptorPool(ctx_->device(), &dpi, nullptr, &desc_pool_), "vkCreateDescriptorPool");
  VkCommandPoolCreateInfo cpi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  cpi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  cpi.queueFamilyIndex = ctx_->queue_family();
  vkcheck(vkCreateCommandPool(ctx_->device(), &cpi, nullptr, &cmd_pool_), "vkCreateCommandPool");

  create_swapchain();

  // Event counting, chained under ImGui's callbacks (its GLFW backend calls the ones installed before it).
  glfwSetWindowUserPointer(win_, this);
  auto bump = [](GLFWwindow* w) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; };
  glfwSetCursorPosCallback(win_, [](GLFWwindow* w, double, double) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetMouseButtonCallback(win_, [](GLFWwindow* w, int, int, int) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetScrollCallback(win_, [](GLFWwindow* w, double, double) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetKeyCallback(win_, [](GLFWwindow* w, int, int, int, int) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetCharCallback(win_, [](GLFWwindow* w, unsigned) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetWindowFocusCallback(win_, [](GLFWwindow* w, int) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetCursorEnterCallback(win_, [](GLFWwindow* w, int) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetFramebufferSizeCallback(win_, [](GLFWwindow* w, int, int) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });
  glfwSetWindowRefreshCallback(win_, bump);
  glfwSetDropCallback(win_, [](GLFWwindow* w, int, const char**) { ++static_cast<VkWindow*>(glfwGetWindowUserPointer(w))->events_; });

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplGlfw_InitForVulkan(win_, true);
  ImGui_ImplVulkan_InitInfo ii{};
  ii.Instance = ctx_->instance();
  ii.PhysicalDevice = ctx_->physical();
  ii.Device = ctx_->device();
  ii.QueueFamily = ctx_->queue_family();
  ii.Queue = ctx_->queue();
  ii.DescriptorPool = desc_pool_;
  ii.MinImageCount = std::max<uint32_t>(2, image_count());
  ii.ImageCount = image_count();
  ii.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  ii.CheckVkResultFn = imgui_check;
  ImGui_ImplVulkan_Init(&ii, render_pass_);
  imgui_ready_ = true;
  one_shot(*ctx_, cmd_pool_, [](VkCommandBuffer c) { ImGui_ImplVulkan_CreateFontsTexture(c); });
  ImGui_ImplVulkan_DestroyFontUploadObjects();
}

void VkWindow::create_swapchain() {
  uint32_t ni = 0;
  if (shm_) {
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(win_, &fw, &fh);
    extent_ = {uint32_t(std::max(fw, 1)), uint32_t(std::max(fh, 1))};
    std::string why;
    if (!shm_->resize(extent_.width, extent_.height, why)) throw std::runtime_error("vkflow-editor: " + why);
    ni = 2;
    target_ = std::make_unique<OffscreenTarget>(ctx_->physical(), ctx_->device(), render_pass_, format_, extent_, ni);
    can_read_back_ = true;
  } else {
    VkSurfaceCapabilitiesKHR caps;
    vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx_->physical(), surface_, &caps);
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(win_, &fw, &fh);
    extent_ = caps.currentExtent;
    if (extent_.width == UINT32_MAX)
      extent_ = {std::clamp(uint32_t(fw), caps.minImageExtent.width, caps.maxImageExtent.width),
                 std::clamp(uint32_t(fh), caps.minImageExtent.height, caps.maxImageExtent.height)};
    uint32_t count = std::max(caps.minImageCount + 1, 2u);
    if (caps.maxImageCount) count = std::min(count, caps.maxImageCount);
    can_read_back_ = (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;
    VkSwapchainCreateInfoKHR si{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
    si.surface = surface_;
    si.minImageCount = count;
    si.imageFormat = format_;
    si.imageColorSpace = color_space_;
    si.imageExtent = extent_;
    si.imageArrayLayers = 1;
    si.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | (can_read_back_ ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0);
    si.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
    si.preTransform = caps.currentTransform;
    si.compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    si.presentMode = present_mode_;
    si.clipped = VK_TRUE;
    vkcheck(vkCreateSwapchainKHR(ctx_->device(), &si, nullptr, &swapchain_), "vkCreateSwapchainKHR");
    vkGetSwapchainImagesKHR(ctx_->device(), swapchain_, &ni, nullptr);
    images_.resize(ni);
    vkGetSwapchainImagesKHR(ctx_->device(), swapchain_, &ni, images_.data());
    for (VkImage img : images_) {
      VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
      vi.image = img;
      vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
      vi.format = format_;
      vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
      VkImageView v = VK_NULL_HANDLE;
      vkcheck(vkCreateImageView(ctx_->device(), &vi, nullptr, &v), "vkCreateImageView");
      views_.push_back(v);
      VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
      fi.renderPass = render_pass_;
      fi.attachmentCount = 1;
      fi.pAttachments = &v;
      fi.width = extent_.width;
      fi.height = extent_.height;
      fi.layers = 1;
      VkFramebuffer fb = VK_NULL_HANDLE;
      vkcheck(vkCreateFramebuffer(ctx_->device(), &fi, nullptr, &fb), "vkCreateFramebuffer");
      framebuffers_.push_back(fb);
    }
  }
  frames_.resize(ni);
  for (auto& f : frames_) {
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = cmd_pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    vkcheck(vkAllocateCommandBuffers(ctx_->device(), &ai, &f.cmd), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    fci.flags = VK_FENCE_CREATE_SIGNALED_BIT;
    vkcheck(vkCreateFence(ctx_->device(), &fci, nullptr, &f.fence), "vkCreateFence");
    VkSemaphoreCreateInfo sci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    vkcheck(vkCreateSemaphore(ctx_->device(), &sci, nullptr, &f.acquired), "vkCreateSemaphore");
    vkcheck(vkCreateSemaphore(ctx_->device(), &sci, nullptr, &f.rendered), "vkCreateSemaphore");
  }
  frame_ = 0;
}

void VkWindow::destroy_swapchain() {
  VkDevice d = ctx_->device();
  for (auto& f : frames_)
    if (f.fence) vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
  {
    std::lock_guard lock(ctx_->queue_mutex());  // presentation may still hold the semaphores
    vkQueueWaitIdle(ctx_->queue());
  }
  for (auto& f : frames_) {
    vkFreeCommandBuffers(d, cmd_pool_, 1, &f.cmd);
    vkDestroyFence(d, f.fence, nullptr);
    vkDestroySemaphore(d, f.acquired, nullptr);
    vkDestroySemaphore(d, f.rendered, nullptr);
  }
  frames_.clear();
  for (auto fb : framebuffers_) vkDestroyFramebuffer(d, fb, nullptr);
  for (auto v : views_) vkDestroyImageView(d, v, nullptr);
  framebuffers_.clear(), views_.clear(), images_.clear();
  target_.reset();
  if (swapchain_) vkDestroySwapchainKHR(d, swapchain_, nullptr);
  swapchain_ = VK_NULL_HANDLE;
}

void VkWindow::begin_ui_pass(VkCommandBuffer cmd, VkFramebuffer fb, ImDrawData* dd) {
  vkResetCommandBuffer(cmd, 0);
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vkBeginCommandBuffer(cmd, &bi);
  VkClearValue clear{};
  clear.color = {{0x1E / 255.0f, 0x1E / 255.0f, 0x20 / 255.0f, 1.0f}};  // the canvas colour
  VkRenderPassBeginInfo rb{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
  rb.renderPass = render_pass_;
  rb.framebuffer = fb;
  rb.renderArea.extent = extent_;
  rb.clearValueCount = 1;
  rb.pClearValues = &clear;
  vkCmdBeginRenderPass(cmd, &rb, VK_SUBPASS_CONTENTS_INLINE);
  ImGui_ImplVulkan_RenderDrawData(dd, cmd);
  vkCmdEndRenderPass(cmd);
}

uint64_t VkWindow::take_events() {
  uint64_t n = events_;
  events_ = 0;
  return n;
}

VkWindow::~VkWindow() {
  if (ctx_) {
    destroy_swapchain();
    if (imgui_ready_) {
      ImGui_ImplVulkan_Shutdown();
      ImGui_ImplGlfw_Shutdown();
      ImGui::DestroyContext();
    }
    VkDevice d = ctx_->device();
    if (cmd_pool_) vkDestroyCommandPool(d, cmd_pool_, nullptr);
    if (desc_pool_) vkDestroyDescriptorPool(d, desc_pool_, nullptr);
    if (render_pass_) vkDestroyRenderPass(d, render_pass_, nullptr);
    if (surface_) vkDestroySurfaceKHR(ctx_->instance(), surface_, nullptr);
  }
  shm_.reset();  // before GLFW closes the X display it uses
  ctx_.reset();
  if (win_) glfwDestroyWindow(win_);
  glfwTerminate();
}

const char* VkWindow::present_mode_name() const {
  if (shm_) return "x11-shm";
  switch (present_mode_) {
    case VK_PRESENT_MODE_IMMEDIATE_KHR: return "immediate";
    case VK_PRESENT_MODE_MAILBOX_KHR: return "mailbox";
    case VK_PRESENT_MODE_FIFO_KHR: return "fifo";
    case VK_PRESENT_MODE_FIFO_RELAXED_KHR: return "fifo_relaxed";
    default: return "other";
  }
}

bool VkWindow::should_close() const { return glfwWindowShouldClose(win_); }

void VkWindow::render(ImDrawData* dd, const std::filesystem::path& screenshot) {
  VkDevice d = ctx_->device();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(win_, &fw, &fh);
  if (fw == 0 || fh == 0) return;  // minimised
  if (rebuild_ || uint32_t(fw) != extent_.width || uint32_t(fh) != extent_.height) {
    destroy_swapchain();
    create_swapchain();
    ImGui_ImplVulkan_SetMinImageCount(std::max<uint32_t>(2, image_count()));
    rebuild_ = false;
  }
  if (shm_) return render_shm(dd, screenshot);
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  auto t0 = Clock::now();
  Frame& f = frames_[frame_];
  vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
  auto t1 = Clock::now();
  uint32_t image = 0;
  VkResult r = vkAcquireNextImageKHR(d, swapchain_, UINT64_MAX, f.acquired, VK_NULL_HANDLE, &image);
  auto t2 = Clock::now();
  timing_ = {ms(t0, t1), ms(t1, t2), 0, 0, 0};
  if (r == VK_ERROR_OUT_OF_DATE_KHR) {
    rebuild_ = true;
    return;
  }
  if (r != VK_SUBOPTIMAL_KHR) vkcheck(r, "vkAcquireNextImageKHR");
  vkResetFences(d, 1, &f.fence);
  begin_ui_pass(f.cmd, framebuffers_[image], dd);

  // Screenshot: copy the rendered image into a host-visible buffer before presenting it.
  VkBuffer buf = VK_NULL_HANDLE;
  VkDeviceMemory mem = VK_NULL_HANDLE;
  bool shot = !screenshot.empty();
  if (shot) {
    if (!can_read_back_) throw std::runtime_error("vkflow-editor: this surface cannot be read back for a screenshot");
    VkDeviceSize bytes = VkDeviceSize(extent_.width) * extent_.height * 4;
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = bytes;
    bci.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    vkcheck(vkCreateBuffer(d, &bci, nullptr, &buf), "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d, buf, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(ctx_->physical(), &mp);
    uint32_t type = UINT32_MAX;
    const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; ++i)
      if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) type = i;
    if (type == UINT32_MAX) throw std::runtime_error("vkflow-editor: no host-visible memory for the screenshot");
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    vkcheck(vkAllocateMemory(d, &mai, nullptr, &mem), "vkAllocateMemory");
    vkBindBufferMemory(d, buf, mem, 0);
    auto barrier = [&](VkImageLayout from, VkImageLayout to, VkAccessFlags src, VkAccessFlags dst,
                       VkPipelineStageFlags ss, VkPipelineStageFlags ds) {
      VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
      b.oldLayout = from, b.newLayout = to, b.srcAccessMask = src, b.dstAccessMask = dst;
      b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
      b.image = images_[image];
      b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
      vkCmdPipelineBarrier(f.cmd, ss, ds, 0, 0, nullptr, 0, nullptr, 1, &b);
    };
    barrier(VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
            VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkBufferImageCopy bc{};
    bc.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    bc.imageExtent = {extent_.width, extent_.height, 1};
    vkCmdCopyImageToBuffer(f.cmd, images_[image], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &bc);
    barrier(VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_READ_BIT, 0,
            VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
  }
  vkEndCommandBuffer(f.cmd);
  auto t3 = Clock::now();
  timing_.record = ms(t2, t3);

  VkPipelineStageFlags wait = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.waitSemaphoreCount = 1;
  si.pWaitSemaphores = &f.acquired;
  si.pWaitDstStageMask = &wait;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &f.cmd;
  VkSemaphore rendered = frames_[image].rendered;  // per image: presentation may still hold the last one
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &rendered;
  VkPresentInfoKHR pi{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
  pi.waitSemaphoreCount = 1;
  pi.pWaitSemaphores = &rendered;
  pi.swapchainCount = 1;
  pi.pSwapchains = &swapchain_;
  pi.pImageIndices = &image;
  {
    std::lock_guard lock(ctx_->queue_mutex());  // the engine's worker submits to the same queue
    vkcheck(vkQueueSubmit(ctx_->queue(), 1, &si, f.fence), "vkQueueSubmit");
    if (split_timing_) {  // profiling: rendering and presenting timed apart (serialises them)
      vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
      auto t4 = Clock::now();
      timing_.render = ms(t3, t4), t3 = t4;
    }
    r = vkQueuePresentKHR(ctx_->queue(), &pi);
  }
  timing_.present = ms(t3, Clock::now());
  if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) rebuild_ = true;
  else vkcheck(r, "vkQueuePresentKHR");
  frame_ = (frame_ + 1) % uint32_t(frames_.size());

  if (shot) {
    vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
    void* p = nullptr;
    vkMapMemory(d, mem, 0, VK_WHOLE_SIZE, 0, &p);
    bool bgr = format_ == VK_FORMAT_B8G8R8A8_UNORM || format_ == VK_FORMAT_B8G8R8A8_SRGB;
    try {
      save_screenshot(static_cast<const uint8_t*>(p), extent_.width, extent_.height, size_t(extent_.width) * 4, bgr, screenshot);
    } catch (...) {
      vkUnmapMemory(d, mem), vkDestroyBuffer(d, buf, nullptr), vkFreeMemory(d, mem, nullptr);
      throw;
    }
    vkUnmapMemory(d, mem);
    vkDestroyBuffer(d, buf, nullptr);
    vkFreeMemory(d, mem, nullptr);
  }
}

}  // namespace vkf::editor
