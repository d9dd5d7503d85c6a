// The decoded-pixel limit: LoadImage reads the size from the header and refuses an image over
// --max-image-pixels before decoding (exit 1, the file and the figures named, nothing written); EmptyLatentImage
// beyond its 16384-pixel side is refused at validation (exit 2).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

TEST_CASE("run: LoadImage over --max-image-pixels fails naming the file and the limit", "[hardening]") {
  TempDir d("pixlimit");
  // graphs/input/example.png is larger than 64 pixels; the limit applies from the header.
  auto r = vkflow({"run", (kGraphs / "image_ops.json").string(), "--quiet", "--output-dir", (d / "o").string(),
                   "--input-dir", (kGraphs / "input").string(), "--max-image-pixels", "64"});
  INFO(r.err);
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 1);
  CHECK(contains(r.err, "example.png"));
  CHECK(contains(r.err, "exceeds the limit of 64 pixels"));
  CHECK(contains(r.err, "LoadImage"));
  CHECK(files_under(d / "o").empty());
}

TEST_CASE("run: EmptyLatentImage beyond its side limit is refused at validation", "[hardening][cpu]") {
  TempDir d("latentlimit");
  auto r = vkflow({"run", (kGraphs / "txt2img.json").string(), "--quiet", "--output-dir", (d / "o").string(),
                   "--set", "5.width=16392"});
  INFO(r.err);
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 2);
  CHECK(contains(r.err, "value_bigger_than_max"));
  CHECK(files_under(d / "o").empty());
}
