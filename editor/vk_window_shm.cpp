// VkWindow's CPU-device path: frames drawn into an OffscreenTarget, copied to the host and presented
// through MIT-SHM (x11_shm.h says why); and the screenshot writer both paths share.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "editor/offscreen_target.h"
#include "editor/vk_window.h"
#include "editor/x11_shm.h"
#include "engine/io/png.h"
#include "engine/vk/context.h"

namespace vkf::editor {

void VkWindow::open_shm_present() {
#ifdef VKFLOW_EDITOR_X11_SHM
  // VKFLOW_EDITOR_PRESENT: unset = MIT-SHM on CPU devices, "shm" = on any device, a present mode
  // (mailbox|fifo|immediate) or "swapchain" = the Vulkan swapchain.
  const char* env = std::getenv("VKFLOW_EDITOR_PRESENT");
  const std::string want = env ? env : "";
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(ctx_->physical(), &props);
  const bool cpu = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  if (!(want == "shm" || (want.empty() && cpu))) return;
  std::string why;
  shm_ = X11Shm::open(win_, why);
  if (shm_ && !shm_->resize(1, 1, why)) shm_.reset();  // probe the attach (a remote server refuses it)
  if (!shm_ && (want == "shm" || std::getenv("VKFLOW_EDITOR_VERBOSE")))
    std::fprintf(stderr, "vkflow-editor: MIT-SHM presentation not used (%s); using the swapchain\n", why.c_str());
#else
  if (const char* env = std::getenv("VKFLOW_EDITOR_PRESENT"); env && std::string(env) == "shm")
    std::fprintf(stderr, "vkflow-editor: MIT-SHM presentation not built (no libx11/libxext); using the swapchain\n");
#endif
}

void VkWindow::render_shm(ImDrawData* dd, const std::filesystem::path& screenshot) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  VkDevice d = ctx_->device();
  const uint32_t slot = frame_;
  Frame& f = frames_[slot];
  auto t0 = Clock::now();
  vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
  auto t1 = Clock::now();
  timing_ = {ms(t0, t1), 0, 0, 0, 0};
  vkResetFences(d, 1, &f.fence);
  begin_ui_pass(f.cmd, target_->framebuffer(slot), dd);  // leaves the image in TRANSFER_SRC_OPTIMAL
  target_->record_readback(f.cmd, slot);
  vkEndCommandBuffer(f.cmd);
  auto t2 = Clock::now();
  timing_.record = ms(t1, t2);

  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &f.cmd;
  {
    std::lock_guard lock(ctx_->queue_mutex());  // the engine's worker submits to the same queue
    if (VkResult r = vkQueueSubmit(ctx_->queue(), 1, &si, f.fence); r != VK_SUCCESS)
      throw std::runtime_error("vkflow-editor: vkQueueSubmit failed (VkResult " + std::to_string(int(r)) + ")");
  }
  // Waited for here, not a frame later: lavapipe renders on the same two cores the next UI build would use,
  // so overlapping buys little, and the shared image may be written as soon as the frame is done.
  vkWaitForFences(d, 1, &f.fence, VK_TRUE, UINT64_MAX);
  auto t3 = Clock::now();
  const uint8_t* src = target_->pixels(slot);
  const size_t row = size_t(extent_.width) * 4, stride = shm_->stride();
  uint8_t* dst = shm_->pixels();
  if (stride == row) std::memcpy(dst, src, row * extent_.height);
  else
    for (uint32_t y = 0; y < extent_.height; ++y) std::memcpy(dst + y * stride, src + y * row, row);
  shm_->present();
  auto t4 = Clock::now();
  timing_.render = ms(t2, t3), timing_.present = ms(t3, t4);  // bench prints their sum as submit+present
  frame_ = (frame_ + 1) % uint32_t(frames_.size());
  if (!screenshot.empty()) save_screenshot(src, extent_.width, extent_.height, row, true, screenshot);
}

void VkWindow::save_screenshot(const uint8_t* px, uint32_t w, uint32_t h, size_t stride, bool bgr,
                               const std::filesystem::path& file) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      const uint8_t* s = px + y * stride + size_t(x) * 4;
      uint8_t* o = rgb.data() + (size_t(y) * w + x) * 3;
      o[0] = s[bgr ? 2 : 0], o[1] = s[1], o[2] = s[bgr ? 0 : 2];
    }
  auto png = io::encode_png(rgb, int(w), int(h), 3, {});
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
    if (!out) throw std::runtime_error("vkflow-editor: cannot write " + file.string());
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace vkf::editor
