// The path policy (io/safe_path.h) and the PNG writer built on it: names never leave their folder (with
// symlinks resolved), control characters are refused, the free-name search is bounded, and concurrent
// writers never overwrite each other.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <thread>

#include "engine/io/png.h"
#include "engine/io/safe_path.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;

TEST_CASE("safe_path: names below a folder, no escape", "[hardening][cpu]") {
  test::TempDir root("sp");
  fs::create_directories(root / "out" / "sub");
  const fs::path out = root / "out";
  using io::PathAccess;
  CHECK_FALSE(io::path_problem(out, "x", PathAccess::Write));
  CHECK_FALSE(io::path_problem(out, "sub/x", PathAccess::Write));
  CHECK_FALSE(io::path_problem(out, "new/deeper/x", PathAccess::Write));
  CHECK(io::path_problem(out, "../x", PathAccess::Write));
  CHECK(io::path_problem(out, "sub/../../x", PathAccess::Write));
  CHECK(io::path_problem(out, "/tmp/x", PathAccess::Write));
  CHECK(io::path_problem(out, "/tmp/x", PathAccess::Read));           // absolute reads only when allowed
  CHECK_FALSE(io::path_problem(out, "/tmp/x", PathAccess::Read, true));
  CHECK(io::path_problem(out, "", PathAccess::Write));
  CHECK(io::path_problem(out, std::string("a\0b", 3), PathAccess::Write)->find("0x00") != std::string::npos);
  CHECK(io::path_problem(out, "a\nb", PathAccess::Write));
  CHECK(io::path_problem(out, "a\x7f", PathAccess::Write));
  CHECK(io::path_problem(out, std::string(5000, 'a'), PathAccess::Write));

  // A symlink inside the folder that points outside: writes through it are refused.
  fs::create_directories(root / "elsewhere");
  fs::create_directory_symlink(root / "elsewhere", out / "link");
  auto why = io::path_problem(out, "link/x", PathAccess::Write);
  REQUIRE(why);
  CHECK(why->find("symlink") != std::string::npos);
  CHECK(io::is_within(out, out / "sub" / "x"));
  CHECK_FALSE(io::is_within(out, out / "link" / "x"));
  CHECK_THROWS_AS(io::resolve_inside(out, "../x", PathAccess::Write), io::UnsafePathError);
  CHECK(io::resolve_inside(out, "sub/x", PathAccess::Write) == out / "sub" / "x");
}

TEST_CASE("save_numbered_png: refuses escapes, bounded search, exclusive names", "[hardening][cpu]") {
  test::TempDir root("png");
  const fs::path out = root / "out";
  fs::create_directories(out);
  const std::vector<uint8_t> png = {1, 2, 3};
  CHECK_THROWS_AS(io::save_numbered_png(out, "../x", png), io::UnsafePathError);
  CHECK_THROWS_AS(io::save_numbered_png(out, root.path().string() + "/abs", png), io::UnsafePathError);
  CHECK_THROWS_AS(io::save_numbered_png(out, std::string("a\0b", 3), png), io::UnsafePathError);
  CHECK(fs::is_empty(out));
  CHECK_FALSE(fs::exists(root / "x_00001_.png"));

  // A file with the largest counter: the search ends with an error instead of looping or wrapping.
  std::ofstream(out / "full_999999999_.png") << "x";
  CHECK_THROWS_WITH(io::save_numbered_png(out, "full", png), Catch::Contains("no free file name"));

  // Threads racing on one prefix: every file distinct, none overwritten, no temp file left.
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> ts;
  std::vector<std::vector<fs::path>> got(kThreads);
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) got[size_t(t)].push_back(io::save_numbered_png(out, "race", png));
    });
  for (auto& t : ts) t.join();
  std::set<fs::path> names;
  for (auto& v : got) names.insert(v.begin(), v.end());
  CHECK(names.size() == size_t(kThreads * kEach));
  size_t files = 0;
  for (auto& e : fs::directory_iterator(out)) {
    CHECK(e.path().filename().string().rfind(".", 0) != 0);  // no temp file left behind
    ++files;
  }
  CHECK(files == size_t(kThreads * kEach) + 1);
}
