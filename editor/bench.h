// --bench N: a graph of N nodes and ~1.5 N links, panned and zoomed along a fixed path for S seconds
// (default 10, as the issue asks) or F frames; reports the frame times (whole frames: UI build, rendering
// on the device, present), where the time went, and the draw-list sizes.
#pragma once
#include <chrono>
#include <vector>

#include <imgui.h>

namespace vkf::editor {

class App;

class Bench {
 public:
  // frames > 0: stop after that many measured frames, else after `seconds`.
  Bench(App& app, int nodes, int frames, double seconds);
  void inject(ImGuiIO& io, int frame);  // sets this frame's view (the path follows wall time)
  bool done(int frame) const;
  // One finished frame: its whole time, the UI build, and the window's breakdown (fence wait, acquire,
  // record, submit + present, split-off rendering), plus the draw data's vertex count.
  void record(double frame_ms, double ui_ms, const double parts[5], int vertices);
  void report() const;
  static constexpr int kWarmup = 10;  // the first frames compile pipelines and upload the font

 private:
  using Clock = std::chrono::steady_clock;
  App& app_;
  int nodes_ = 0, links_ = 0, frames_ = 0;
  double seconds_ = 10;
  float width_ = 0, height_ = 0;
  int seen_ = 0;
  Clock::time_point start_;
  std::vector<double> frame_ms_, ui_ms_, parts_[5], vertices_;
};

// mean / median / p95 / max of frame_ms after `skip` frames, on one line.
void print_frame_stats(const std::vector<double>& frame_ms, size_t skip, const char* what = "frame time");

}  // namespace vkf::editor
