#include "engine/cli/progress.h"

#include <algorithm>
#include <cstdio>

namespace vkf::cli {

using graph::EventType;

ProgressPrinter::ProgressPrinter(bool tty, bool quiet) : tty_(tty), quiet_(quiet) {}

void ProgressPrinter::draw(const std::string& line) {
  if (quiet_) return;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    line_open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressPrinter::end_node() {
  if (node_.empty()) return;
  timings_.push_back({node_, class_, std::chrono::duration<double>(Clock::now() - node_start_).count()});
  node_.clear();
}

void ProgressPrinter::on_event(const graph::Event& e) {
  char buf[64];
  switch (e.type) {
    case EventType::ExecutionStart: run_start_ = Clock::now(); break;
    case EventType::ExecutionCached:
      if (!e.nodes.empty() && !quiet_) {
        std::string ids;
        for (auto& id : e.nodes) ids += (ids.empty() ? "" : ", ") + id;
        draw("cached: " + ids);
      }
      break;
    case EventType::Executing:
      end_node();
      node_ = e.node, class_ = e.class_type, node_start_ = Clock::now();
      label_ = "[" + std::to_string(e.index) + "/" + std::to_string(e.total) + "] " + e.class_type + " #" + e.node;
      draw(label_ + (tty_ ? "" : " ..."));
      break;
    case EventType::Progress: {
      if (!tty_ || e.max == 0) break;  // plain output: one line per node is enough for logs
      const int width = 30;
      int filled = int(width * std::min<uint64_t>(e.value, e.max) / e.max);
      std::string bar(filled, '#');
      bar.resize(width, '.');
      double s = std::chrono::duration<double>(Clock::now() - node_start_).count();
      std::snprintf(buf, sizeof buf, " %llu/%llu  %.1fs", (unsigned long long)e.value, (unsigned long long)e.max, s);
      draw(label_ + " [" + bar + "]" + buf);
      break;
    }
    case EventType::Executed: break;
    case EventType::ExecutionSuccess:
    case EventType::ExecutionError:
    case EventType::ExecutionInterrupted: {
      end_node();
      if (line_open_) std::fprintf(stderr, "\n");
      line_open_ = false;
      if (e.type == EventType::ExecutionSuccess && !quiet_) {
        std::snprintf(buf, sizeof buf, "%.2f", std::chrono::duration<double>(Clock::now() - run_start_).count());
        std::fprintf(stderr, "done in %s s\n", buf);
      }
      break;
    }
  }
}

void ProgressPrinter::print_profile() const {
  auto t = timings_;
  std::sort(t.begin(), t.end(), [](const Timing& a, const Timing& b) { return a.seconds > b.seconds; });
  double total = 0;
  for (auto& x : t) total += x.seconds;
  std::fprintf(stderr, "profile (%zu nodes, %.3f s):\n", t.size(), total);
  for (auto& x : t)
    std::fprintf(stderr, "  %10.3f s  %5.1f%%  %s #%s\n", x.seconds, total > 0 ? 100.0 * x.seconds / total : 0.0,
                 x.class_type.c_str(), x.node.c_str());
}

}  // namespace vkf::cli
