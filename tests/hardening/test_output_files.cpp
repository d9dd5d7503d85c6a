// Output files: a filename_prefix with sub-folders stays below the output folder (ComfyUI's `sub/name`),
// the temp file is created in the final file's own folder (so rename/link is atomic and nothing is ever
// written elsewhere), and a failed save leaves no file behind.
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/io/png.h"
#include "engine/io/safe_path.h"
#include "tests/support/temp_dir.h"

using namespace vkf;
namespace fs = std::filesystem;

namespace {
std::vector<fs::path> all_files(const fs::path& dir) {
  std::vector<fs::path> v;
  for (auto& e : fs::recursive_directory_iterator(dir)) v.push_back(fs::relative(e.path(), dir));
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("save_numbered_png: sub-folder prefixes stay inside, no temp file left", "[hardening][cpu]") {
  test::TempDir root("outfiles");
  const fs::path out = root / "out";
  fs::create_directories(out);
  const std::vector<uint8_t> png = {7, 8, 9};
  fs::path p = io::save_numbered_png(out, "sub/deeper/name", png);
  CHECK(p == out / "sub" / "deeper" / "name_00001_.png");
  CHECK(io::save_numbered_png(out, "sub/deeper/name", png) == out / "sub" / "deeper" / "name_00002_.png");
  CHECK(all_files(out) == std::vector<fs::path>{"sub", "sub/deeper", "sub/deeper/name_00001_.png",
                                                "sub/deeper/name_00002_.png"});
  std::ifstream in(p, std::ios::binary);
  std::vector<char> got((std::istreambuf_iterator<char>(in)), {});
  CHECK(got == std::vector<char>{7, 8, 9});
  // '..' that leaves, absolute prefixes: refused, the folder unchanged, nothing beside it.
  CHECK_THROWS_AS(io::save_numbered_png(out, "sub/../../x", png), io::UnsafePathError);
  CHECK_THROWS_AS(io::save_numbered_png(out, (root / "abs").string(), png), io::UnsafePathError);
  CHECK(all_files(root.path()).size() == 5);  // out + the four above
}

TEST_CASE("write_temp_file: hidden, exclusive, in the given folder", "[hardening][cpu]") {
  test::TempDir root("tmpfile");
  const fs::path a = io::write_temp_file(root.path(), "x", {1, 2});
  const fs::path b = io::write_temp_file(root.path(), "x", {3});
  CHECK(a != b);
  CHECK(a.parent_path() == root.path());
  CHECK(a.filename().string().rfind(".x.", 0) == 0);
  CHECK(fs::file_size(a) == 2);
  CHECK(fs::file_size(b) == 1);
}

TEST_CASE("save_numbered_png: a failed save leaves nothing", "[hardening][cpu]") {
  test::TempDir root("savefail");
  const fs::path out = root / "out";
  fs::create_directories(out);
  std::ofstream(out / "f") << "a file where a sub-folder is asked for";
  CHECK_THROWS(io::save_numbered_png(out, "f/x", {1}));
  CHECK(all_files(out) == std::vector<fs::path>{"f"});
}
