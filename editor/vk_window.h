// The editor's window: GLFW window + Vulkan swapchain on the engine's own vk::Context (one device for
// compute and presentation; the context picks a queue family that presents), Dear ImGui's GLFW and
// Vulkan backends, and frame readback for --screenshot. On a CPU device under X11 frames skip the
// swapchain and go to the window through MIT-SHM (x11_shm.h says why).
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

struct GLFWwindow;
struct ImDrawData;

namespace vkf::vk {
class Context;
}

namespace vkf::editor {

class X11Shm;
class OffscreenTarget;

class VkWindow {
 public:
  // Creates the window and the shared context (`device` as --device: -1 picks). Throws with a clear
  // message when no display or no presentable device exists.
  VkWindow(int width, int height, const std::string& title, int device);
  ~VkWindow();
  VkWindow(const VkWindow&) = delete;
  VkWindow& operator=(const VkWindow&) = delete;

  std::shared_ptr<vk::Context> context() const { return ctx_; }
  GLFWwindow* glfw() const { return win_; }
  bool should_close() const;
  // Input and window events since the last call (GLFW callbacks installed before ImGui's, which chains
  // to them): the main loop skips building, rendering and presenting frames when nothing happened.
  uint64_t take_events();
  // Renders and presents ImGui's draw data; when `screenshot` is non-empty also writes that frame as PNG
  // (throws when the surface cannot be read back).
  void render(ImDrawData* dd, const std::filesystem::path& screenshot = {});
  int width() const { return int(extent_.width); }
  // Where the last render() spent its time (ms): waiting for the frame slot's fence (the device still
  // rendering an earlier frame), acquiring the image, recording, and submit + present; with
  // VKFLOW_EDITOR_SPLIT_TIMING set, the device's rendering is waited for and timed apart from presenting.
  struct Timing {
    double fence = 0, acquire = 0, record = 0, present = 0, render = 0;
  };
  const Timing& last_timing() const { return timing_; }
  const char* present_mode_name() const;
  uint32_t image_count() const { return uint32_t(frames_.size()); }
  int height() const { return int(extent_.height); }

 private:
  void create_swapchain();
  void destroy_swapchain();
  // The CPU-device path (vk_window_shm.cpp): draw into an OffscreenTarget and present it with X11Shm.
  // Begins `cmd` and records the render pass that clears to the canvas colour and draws ImGui's data.
  void begin_ui_pass(VkCommandBuffer cmd, VkFramebuffer fb, ImDrawData* dd);
  void open_shm_present();
  void render_shm(ImDrawData* dd, const std::filesystem::path& screenshot);
  static void save_screenshot(const uint8_t* px, uint32_t w, uint32_t h, size_t stride, bool bgr,
                              const std::filesystem::path& file);

  GLFWwindow* win_ = nullptr;
  std::shared_ptr<vk::Context> ctx_;
  VkSurfaceKHR surface_ = VK_NULL_HANDLE;
  VkSwapchainKHR swapchain_ = VK_NULL_HANDLE;
  VkFormat format_ = VK_FORMAT_B8G8R8A8_UNORM;
  VkColorSpaceKHR color_space_ = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
  VkPresentModeKHR present_mode_ = VK_PRESENT_MODE_FIFO_KHR;
  bool can_read_back_ = false;
  VkExtent2D extent_{0, 0};
  VkRenderPass render_pass_ = VK_NULL_HANDLE;
  VkDescriptorPool desc_pool_ = VK_NULL_HANDLE;
  VkCommandPool cmd_pool_ = VK_NULL_HANDLE;
  std::vector<VkImage> images_;
  std::vector<VkImageView> views_;
  std::vector<VkFramebuffer> framebuffers_;
  struct Frame {
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkSemaphore acquired = VK_NULL_HANDLE, rendered = VK_NULL_HANDLE;
  };
  std::vector<Frame> frames_;
  uint32_t frame_ = 0;
  bool imgui_ready_ = false;
  bool rebuild_ = false, split_timing_ = false;
 public:
  uint64_t events_ = 0;  // bumped by the GLFW callbacks (main thread)
 private:
  Timing timing_;
  std::unique_ptr<X11Shm> shm_;            // set when frames are presented through MIT-SHM
  std::unique_ptr<OffscreenTarget> target_;  // the images drawn into on that path
};

}  // namespace vkf::editor
