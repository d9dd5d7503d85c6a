// The one path policy for names a graph or a request gives: nothing resolves outside its folder.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "engine/io/safe_path.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;
using io::PathAccess;

TEST_CASE("safe_path: plain names resolve inside the folder", "[cpu][safe_path]") {
  test::TempDir root("safe_path");
  CHECK_FALSE(io::path_problem(root.path(), "a.png", PathAccess::Write));
  CHECK_FALSE(io::path_problem(root.path(), "sub/dir/a.png", PathAccess::Write));
  CHECK_FALSE(io::path_problem(root.path(), "./a.png", PathAccess::Read));
  CHECK(io::resolve_inside(root.path(), "sub/a.png", PathAccess::Write) == root.path() / "sub/a.png");
  CHECK(io::is_within(root.path(), root.path() / "x" / "y"));
  CHECK(io::is_within(root.path(), root.path()));
  CHECK_FALSE(io::is_within(root.path() / "x", root.path() / "xy"));  // a prefix of the name is not a parent
}

TEST_CASE("safe_path: climbing, absolute names and control characters are refused", "[cpu][safe_path]") {
  test::TempDir root("safe_path");
  auto why = [&](std::string_view n, PathAccess a = PathAccess::Write, bool abs = false) {
    auto p = io::path_problem(root.path(), n, a, abs);
    return p ? *p : std::string();
  };
  CHECK_THAT(why("../x.png"), Catch::Contains(".."));
  CHECK_THAT(why("a/../../x.png"), Catch::Contains(".."));
  CHECK_THAT(why("/etc/passwd"), Catch::Contains("absolute"));
  CHECK_THAT(why("/etc/passwd", PathAccess::Read), Catch::Contains("absolute"));
  CHECK(why("/etc/passwd", PathAccess::Read, true).empty());         // the CLI user may name a file to read
  CHECK_THAT(why("/tmp/x", PathAccess::Write, true), Catch::Contains("absolute"));  // never for writes
  CHECK_THAT(why(""), Catch::Contains("empty"));
  CHECK_THAT(why(std::string("ab\0cd", 5)), Catch::Contains("0x00"));
  CHECK_THAT(why("a\nb"), Catch::Contains("0x0A"));
  CHECK_THAT(why("a\x7f"), Catch::Contains("0x7F"));
  CHECK_THAT(why(std::string(5000, 'a')), Catch::Contains("longer"));
  try {
    (void)io::resolve_inside(root.path(), std::string("x\0y", 3), PathAccess::Write);
    FAIL("no exception");
  } catch (const io::UnsafePathError& e) {
    std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("'x?y'"));  // the control byte is not echoed raw
    CHECK_THAT(m, Catch::Contains(root.path().string()));
  }
}

TEST_CASE("safe_path: a symlink out of the folder is refused for writes", "[cpu][safe_path]") {
  test::TempDir root("safe_path"), outside("safe_path_out");
  fs::create_directory_symlink(outside.path(), root.path() / "link");
  auto p = io::path_problem(root.path(), "link/x.png", PathAccess::Write);
  REQUIRE(p);
  CHECK_THAT(*p, Catch::Contains("symlink"));
  CHECK_FALSE(io::is_within(root.path(), root.path() / "link" / "x.png"));
  // Reads follow links the folder's owner placed (a linked model folder); ".." still cannot climb.
  CHECK_FALSE(io::path_problem(root.path(), "link/x.png", PathAccess::Read));
  // A root that is itself a symlink is resolved before comparing.
  fs::create_directory_symlink(root.path(), outside.path() / "root_link");
  CHECK_FALSE(io::path_problem(outside.path() / "root_link", "a.png", PathAccess::Write));
}
