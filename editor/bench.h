// --bench N: a graph of N nodes and ~1.5 N links, panned and zoomed along a fixed path for F frames;
// reports the frame times (whole frames: UI build, rendering on the device, present).
#pragma once
#include <vector>

#include <imgui.h>

namespace vkf::editor {

class App;

class Bench {
 public:
  Bench(App& app, int nodes, int frames);
  void inject(ImGuiIO& io, int frame);  // sets this frame's view
  bool done(int frame) const { return frame >= frames_ + kWarmup; }
  void report(const std::vector<double>& frame_ms, const std::vector<double>& ui_ms) const;
  static constexpr int kWarmup = 10;  // the first frames compile pipelines and upload the font

 private:
  App& app_;
  int nodes_ = 0, links_ = 0, frames_ = 0;
  float width_ = 0, height_ = 0;
};

// mean / median / p95 / max of frame_ms after `skip` frames, on one line.
void print_frame_stats(const std::vector<double>& frame_ms, size_t skip, const char* what = "frame time");

}  // namespace vkf::editor
