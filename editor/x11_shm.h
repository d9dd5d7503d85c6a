// Presenting a CPU-rendered frame to an X11 window through MIT-SHM (XShmPutImage).
//
// Why: on a CPU Vulkan device (lavapipe) Mesa 22's X11 WSI sends every frame as an XPutImage request
// over the X socket, and the X server spends ~17 ms of a core per 1280x720 frame receiving it (measured
// under Xvfb with perf: recvmsg copies and page faults). The frame is already in host memory, so a
// shared-memory image costs one memcpy and a short round trip instead. Mesa 23.1 does the same itself.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct GLFWwindow;

namespace vkf::editor {

class X11Shm {
 public:
  // Returns null (with the reason in `why`) when the window is not on X11, the server lacks MIT-SHM or
  // is not local, or its visual is not 32-bit BGRX (the byte order of VK_FORMAT_B8G8R8A8_UNORM).
  static std::unique_ptr<X11Shm> open(GLFWwindow* win, std::string& why);
  ~X11Shm();
  X11Shm(const X11Shm&) = delete;
  X11Shm& operator=(const X11Shm&) = delete;

  // (Re)creates the shared image for a window of this size; false (with `why`) on failure.
  bool resize(uint32_t width, uint32_t height, std::string& why);
  // Rows of `width` BGRX pixels, `stride()` bytes apart.
  uint8_t* pixels() const;
  size_t stride() const;
  // Copies the image to the window and waits until the server has read it (the next frame may then
  // overwrite the shared memory).
  void present();

 private:
  struct State;
  explicit X11Shm(std::unique_ptr<State> s);
  void release_image();
  std::unique_ptr<State> s_;
};

}  // namespace vkf::editor
