#include "editor/bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "editor/app.h"

namespace vkf::editor {

Bench::Bench(App& app, int nodes, int frames) : app_(app), nodes_(nodes), frames_(frames) {
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

void Bench::inject(ImGuiIO& io, int frame) {
  (void)io;
  // Zoom between 0.25 and 1.25 (details, widgets and culling all change) while circling the graph.
  double t = double(frame) / 120.0;
  float zoom = float(0.75 + 0.5 * std::sin(t * 2.1));
  float cx = width_ * 0.5f + width_ * 0.35f * float(std::cos(t)), cy = height_ * 0.5f + height_ * 0.35f * float(std::sin(t));
  ImVec2 size = app_.canvas_size();
  app_.set_view({-cx + size.x * 0.5f / zoom, -cy + size.y * 0.5f / zoom}, zoom);
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

void Bench::report(const std::vector<double>& frame_ms, const std::vector<double>& ui_ms) const {
  std::printf("bench: %d nodes, %d links, %dx%d\n", nodes_, links_, int(ImGui::GetIO().DisplaySize.x),
              int(ImGui::GetIO().DisplaySize.y));
  print_frame_stats(frame_ms, kWarmup);
  print_frame_stats(ui_ms, kWarmup, "UI build (CPU)");
}

}  // namespace vkf::editor
