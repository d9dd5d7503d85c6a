// `vkflow serve` put together: store + app + exec queue + listener, until SIGINT/SIGTERM.
#pragma once
#include <string>

#include "server/app.h"
#include "server/listener.h"

namespace vkf::server {

struct ServeOptions {
  NetOptions net;
  AppOptions app;
  int device = -1;
  std::string weights;  // "" = the device's default
  bool previews = false;  // --preview-method none, ComfyUI's default
  bool cache = true;
  bool quiet = false;
  int threads = 4;
  uint64_t device_memory = 0;      // --device-memory: the heap POST /prompt plans against; 0: the device's
  bool skip_memory_check = false;  // --skip-memory-check
};

// Serves until SIGINT or SIGTERM; returns the process exit code. Prints the bound address on stdout.
int serve(const ServeOptions& o);

}  // namespace vkf::server
