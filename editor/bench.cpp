#include "editor/bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "editor/app.h"

namespace vkf::editor {

Bench::Bench(App& app, int nodes, int frames, double seconds) : app_(app), nodes_(nodes), frames_(frames), seconds_(seconds) {
  app.new_graph();
  auto& ed = app.editor();
  int cols = std::max(1, int(std::ceil(std::sqrt(double(nodes) * 1.5))));
  std::vector<std::string> ids;
  ed.begin("bench graph");
  for (int i = 0; i < nodes; ++i) {
    float x = float(i % cols) * 300, y = float(i / cols) * 200;
    ids.push_back(ed.add_node(i == 0 ? "EmptyLatentImage" : "LatentInterpolate", x, y));
    if (i == 0) continue;
    // A chain through every node, and every other node also fed from the row above: ~1.5 N links.
    if (ed.connect(ids[size_t(i - 1)], 0, ids.back(), "samples1")) ++links_;
    if (i % 2 == 0 && i >= cols && ed.connect(ids[size_t(i - cols)], 0, ids.back(), "samples2")) ++links_;
  }
  ed.commit();
  width_ = float(cols) * 300, height_ = float((nodes + cols - 1) / cols) * 200;
}

bool Bench::done(int frame) const {
  if (frame < kWarmup) return false;
  if (frames_ > 0) return frame >= frames_ + kWarmup;
  return std::chrono::duration<double>(Clock::now() - start_).count() >= seconds_;
}

void Bench::inject(ImGuiIO& io, int frame) {
  (void)io;
  if (frame <= kWarmup) start_ = Clock::now();
  // The path follows wall time (one lap of the circle in ~12.6 s), so a slower frame rate sees the same
  // views, fewer of them. With --frames the path advances 1/60 s per frame instead.
  double t = frames_ > 0 ? double(std::max(0, frame - kWarmup)) / 60.0
                         : std::chrono::duration<double>(Clock::now() - start_).count();
  t *= 0.5;
  // Zoom between 0.25 and 1.25 (details, widgets and culling all change) while circling the graph.
  float zoom = float(0.75 + 0.5 * std::sin(t * 2.1));
  float cx = width_ * 0.5f + width_ * 0.35f * float(std::cos(t)), cy = height_ * 0.5f + height_ * 0.35f * float(std::sin(t));
  ImVec2 size = app_.canvas_size();
  app_.set_view({-cx + size.x * 0.5f / zoom, -cy + size.y * 0.5f / zoom}, zoom);
}

void Bench::record(double frame_ms, double ui_ms, const double parts[5], int vertices) {
  frame_ms_.push_back(frame_ms), ui_ms_.push_back(ui_ms), vertices_.push_back(double(vertices));
  for (int i = 0; i < 5; ++i) parts_[i].push_back(parts[i]);
}

void print_frame_stats(const std::vector<double>& frame_ms, size_t skip, const char* what) {
  if (frame_ms.size() <= skip) return;
  std::vector<double> v(frame_ms.begin() + long(skip), frame_ms.end());
  std::sort(v.begin(), v.end());
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  auto pct = [&](double p) { return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))]; };
  std::printf("%s over %zu frames: mean %.2f ms, median %.2f ms, p95 %.2f ms, max %.2f ms (%.1f fps)\n", what,
              v.size(), mean, pct(0.5), pct(0.95), v.back(), 1000.0 / mean);
  std::fflush(stdout);
}

void Bench::report() const {
  std::printf("bench: %d nodes, %d links, %dx%d\n", nodes_, links_, int(ImGui::GetIO().DisplaySize.x),
              int(ImGui::GetIO().DisplaySize.y));
  size_t skip = size_t(kWarmup);
  print_frame_stats(frame_ms_, skip);
  print_frame_stats(ui_ms_, skip, "UI build (CPU)");
  auto mean = [&](const std::vector<double>& v) {
    if (v.size() <= skip) return 0.0;
    return std::accumulate(v.begin() + long(skip), v.end(), 0.0) / double(v.size() - skip);
  };
  std::printf("window (mean ms): fence wait %.2f, acquire %.2f, record %.2f, submit+present %.2f (of which rendering %.2f); %.0f vertices per frame\n",
              mean(parts_[0]), mean(parts_[1]), mean(parts_[2]), mean(parts_[3]) + mean(parts_[4]), mean(parts_[4]),
              mean(vertices_));
  std::fflush(stdout);
}

}  // namespace vkf::editor
