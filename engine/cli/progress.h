// Progress display for `vkflow run` on stderr: a redrawn bar on a terminal (per node, with sampler
// steps when a node reports progress), plain lines otherwise (`[3/7] KSampler #3 ...`); per-node timings
// for --profile.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "engine/graph/events.h"

namespace vkf::cli {

class ProgressPrinter {
 public:
  ProgressPrinter(bool tty, bool quiet);
  void on_event(const graph::Event& e);
  void print_profile() const;  // table of node timings, slowest first

 private:
  void end_node();
  void draw(const std::string& line);

  using Clock = std::chrono::steady_clock;
  bool tty_, quiet_, line_open_ = false;
  std::string node_, class_, label_;
  Clock::time_point node_start_, run_start_;
  struct Timing {
    std::string node, class_type;
    double seconds;
  };
  std::vector<Timing> timings_;
};

}  // namespace vkf::cli
