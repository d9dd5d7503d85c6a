#include "editor/x11_shm.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <sys/ipc.h>
#include <sys/shm.h>

// GLFW's X11 accessors, declared as glfw3native.h does (that header also wants Xrandr's headers).
extern "C" {
Display* glfwGetX11Display(void);
Window glfwGetX11Window(GLFWwindow* window);
}

namespace vkf::editor {

struct X11Shm::State {
  Display* dpy = nullptr;
  Window win = 0;
  GC gc = nullptr;
  Visual* visual = nullptr;
  int depth = 0;
  XImage* image = nullptr;
  XShmSegmentInfo seg{};
  bool attached = false;
};

namespace {

// Xlib's default error handler exits the process; while attaching, a refusal (a remote server) is
// recorded instead. Only the main thread talks to the display.
bool g_x_failed = false;
int record_error(Display*, XErrorEvent*) {
  g_x_failed = true;
  return 0;
}

}  // namespace

X11Shm::X11Shm(std::unique_ptr<State> s) : s_(std::move(s)) {}

std::unique_ptr<X11Shm> X11Shm::open(GLFWwindow* win, std::string& why) {
  auto s = std::make_unique<State>();
  s->dpy = glfwGetX11Display();
  s->win = s->dpy ? glfwGetX11Window(win) : 0;
  if (!s->dpy || !s->win) return why = "not an X11 window", nullptr;
  if (!XShmQueryExtension(s->dpy)) return why = "the X server has no MIT-SHM", nullptr;
  XWindowAttributes wa{};
  if (!XGetWindowAttributes(s->dpy, s->win, &wa)) return why = "cannot read the window's attributes", nullptr;
  // 24/32-bit TrueColor with red in bits 16-23 on a little-endian server: B, G, R, X in memory.
  if ((wa.depth != 24 && wa.depth != 32) || wa.visual->red_mask != 0xff0000 || wa.visual->green_mask != 0xff00 ||
      wa.visual->blue_mask != 0xff || ImageByteOrder(s->dpy) != LSBFirst)
    return why = "the window's visual is not 32-bit BGRX", nullptr;
  s->visual = wa.visual, s->depth = wa.depth;
  s->gc = XCreateGC(s->dpy, s->win, 0, nullptr);
  if (!s->gc) return why = "XCreateGC failed", nullptr;
  return std::unique_ptr<X11Shm>(new X11Shm(std::move(s)));
}

void X11Shm::release_image() {
  if (!s_->image) return;
  if (s_->attached) XShmDetach(s_->dpy, &s_->seg), XSync(s_->dpy, False);
  s_->attached = false;
  if (s_->seg.shmaddr && s_->seg.shmaddr != reinterpret_cast<char*>(-1)) shmdt(s_->seg.shmaddr);
  s_->image->data = nullptr;  // the segment is not Xlib's to free
  XDestroyImage(s_->image);
  s_->image = nullptr;
  s_->seg = {};
}

X11Shm::~X11Shm() {
  release_image();
  if (s_->gc) XFreeGC(s_->dpy, s_->gc);
}

bool X11Shm::resize(uint32_t width, uint32_t height, std::string& why) {
  release_image();
  XImage* img = XShmCreateImage(s_->dpy, s_->visual, unsigned(s_->depth), ZPixmap, nullptr, &s_->seg, width, height);
  if (!img) return why = "XShmCreateImage failed", false;
  s_->image = img;
  if (img->bits_per_pixel != 32) return release_image(), why = "the shared image is not 32 bits per pixel", false;
  s_->seg.shmid = shmget(IPC_PRIVATE, size_t(img->bytes_per_line) * img->height, IPC_CREAT | 0600);
  if (s_->seg.shmid < 0) return release_image(), why = "shmget failed", false;
  s_->seg.shmaddr = img->data = static_cast<char*>(shmat(s_->seg.shmid, nullptr, 0));
  // Marked for removal now: the segment then disappears with the last detach, even after a crash.
  shmctl(s_->seg.shmid, IPC_RMID, nullptr);
  if (s_->seg.shmaddr == reinterpret_cast<char*>(-1)) return release_image(), why = "shmat failed", false;
  s_->seg.readOnly = False;
  XSync(s_->dpy, False);
  g_x_failed = false;
  auto old = XSetErrorHandler(record_error);
  const bool ok = XShmAttach(s_->dpy, &s_->seg) && (XSync(s_->dpy, False), !g_x_failed);
  XSetErrorHandler(old);
  if (!ok) return release_image(), why = "the X server cannot attach shared memory (not a local display?)", false;
  s_->attached = true;
  return true;
}

uint8_t* X11Shm::pixels() const { return s_->image ? reinterpret_cast<uint8_t*>(s_->image->data) : nullptr; }

size_t X11Shm::stride() const { return s_->image ? size_t(s_->image->bytes_per_line) : 0; }

void X11Shm::present() {
  if (!s_->image) return;
  XShmPutImage(s_->dpy, s_->win, s_->gc, s_->image, 0, 0, 0, 0, unsigned(s_->image->width), unsigned(s_->image->height), False);
  XSync(s_->dpy, False);  // the server has copied the segment once this returns
}

}  // namespace vkf::editor
