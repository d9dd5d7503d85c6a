// Output files from concurrent processes: several `vkflow run` of one graph into one output folder with
// one filename_prefix, started together, each get their own numbered file (created exclusively, written
// atomically): none is overwritten, none is partial, and no temp file is left.
#include <catch2/catch.hpp>

#include <future>
#include <set>

#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

TEST_CASE("run: concurrent processes on one output folder and prefix never overwrite each other", "[hardening]") {
  TempDir d("concurrent");
  fs::create_directories(d / "o");
  constexpr int kProcs = 4;
  std::vector<std::future<RunOutput>> runs;
  for (int i = 0; i < kProcs; ++i)
    runs.push_back(std::async(std::launch::async, [&] {
      return vkflow({"run", (kGraphs / "image_ops.json").string(), "--quiet", "--output-dir", (d / "o").string(),
                     "--input-dir", (kGraphs / "input").string(), "--set", "4.filename_prefix=same"});
    }));
  for (auto& f : runs) {
    RunOutput r = f.get();
    INFO(r.err);
    CHECK_FALSE(r.crashed());
    CHECK(r.code == 0);
  }
  const auto files = files_under(d / "o");
  std::set<std::string> names;
  for (const auto& p : files) names.insert(p.filename().string());
  std::set<std::string> want;
  for (int i = 1; i <= kProcs; ++i) want.insert("same_0000" + std::to_string(i) + "_.png");
  CHECK(names == want);  // exactly the four counters, no hidden temp file
  for (const auto& p : files) {
    const std::string png = slurp(p);
    CHECK(png.rfind("\x89PNG", 0) == 0);
    CHECK(png.find("IEND") != std::string::npos);  // complete
  }
}
