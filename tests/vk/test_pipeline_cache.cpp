// Persistent VkPipelineCache: a round trip through the cache file, and files that must be ignored safely
// (truncated, garbage, made for another device) without failing the context or its pipelines.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include "engine/vk/context.h"
#include "engine/vk/pipeline.h"
#include "engine/vk/pipeline_cache_file.h"
#include "tests/support/temp_dir.h"

namespace vkf {
namespace {

vk::ContextOptions in_dir(const test::TempDir& d) {
  vk::ContextOptions o;
  o.pipeline_cache_dir = d.path().string();
  return o;
}

// A small pipeline every build has (copy2d), to give the driver something to cache.
vk::PipelineDesc small_pipeline() { return {"copy2d", 2, 24, {{0, 64}}}; }

std::vector<char> slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}
void spit(const std::filesystem::path& p, const std::vector<char>& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(b.data(), std::streamsize(b.size()));
}

// Builds the pipeline in a fresh context over `dir` and returns that context's load note.
std::string reopen(const test::TempDir& dir, size_t* loaded = nullptr) {
  vk::Context ctx(in_dir(dir));
  auto& pc = ctx.pipelines();
  CHECK(pc.get(small_pipeline()).pipeline);
  if (loaded) *loaded = pc.loaded_bytes();
  CHECK(ctx.take_validation_messages().empty());
  return pc.load_note();
}

}  // namespace

TEST_CASE("pipeline cache file round-trips and is keyed by device and driver", "[pipeline_cache]") {
  test::TempDir dir("pcache");
  std::filesystem::path file;
  {
    vk::Context ctx(in_dir(dir));
    auto& pc = ctx.pipelines();
    file = pc.file();
    REQUIRE(file.parent_path() == dir.path());
    const auto id = pc.identity();
    CHECK(file.filename().string() == vk::pipeline_cache_file_name(id));
    REQUIRE(pc.prepare({small_pipeline()}, 2) == 1);
    CHECK(pc.prepare({small_pipeline()}, 2) == 0);  // already built
    CHECK(pc.load_note().empty());
  }  // saved (also by prepare) atomically: no temp files left behind
  REQUIRE(std::filesystem::exists(file));
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) n += 1, (void)e;
  CHECK(n == 1);
  size_t loaded = 0;
  CHECK(reopen(dir, &loaded).empty());
  CHECK(loaded >= 32);  // at least the Vulkan header came back to the driver
}

TEST_CASE("wrap / unwrap of pipeline cache data rejects what is not ours", "[pipeline_cache][cpu]") {
  vk::CacheIdentity id{0x10de, 0x2204, 7, {}};
  for (int i = 0; i < 16; ++i) id.uuid[i] = uint8_t(i * 3);
  std::vector<char> blob(48, 'x');  // VkPipelineCacheHeaderVersionOne + payload
  const uint32_t hdr[4] = {32, 1, id.vendor_id, id.device_id};
  std::memcpy(blob.data(), hdr, 16);
  std::memcpy(blob.data() + 16, id.uuid, 16);
  const auto file = vk::wrap_pipeline_cache(id, blob);
  std::string why;
  auto back = vk::unwrap_pipeline_cache(id, file, why);
  REQUIRE(back);
  CHECK(*back == blob);

  auto rejected = [&](std::vector<char> f, const vk::CacheIdentity& want, const char* reason) {
    std::string w;
    CHECK_FALSE(vk::unwrap_pipeline_cache(want, f, w));
    CHECK_THAT(w, Catch::Contains(reason));
  };
  rejected({file.begin(), file.begin() + 20}, id, "truncated");          // shorter than the header
  rejected({file.begin(), file.end() - 5}, id, "truncated");             // blob cut short
  rejected(std::vector<char>(200, '\x5a'), id, "not a vkflow");          // garbage
  auto flipped = file;
  REQUIRE(flipped.size() == 104);
  flipped.at(100) = char(flipped.at(100) ^ 1);
  rejected(flipped, id, "checksum");
  auto other = id;
  other.driver_version = 8;  // driver update: its file is someone else's
  rejected(file, other, "another device or driver");
  // Our header matches but the driver blob names another device (a foreign Vulkan header).
  auto foreign = blob;
  const uint32_t vendor = 0x1002;
  std::memcpy(foreign.data() + 8, &vendor, 4);
  rejected(vk::wrap_pipeline_cache(id, foreign), id, "Vulkan header names another device");
  auto bad_hdr = blob;
  const uint32_t len = 7;
  std::memcpy(bad_hdr.data(), &len, 4);
  rejected(vk::wrap_pipeline_cache(id, bad_hdr), id, "malformed");
  CHECK(vk::pipeline_cache_file_name(id) != vk::pipeline_cache_file_name(other));
}

TEST_CASE("corrupted, truncated or foreign pipeline cache files are ignored with a note", "[pipeline_cache]") {
  test::TempDir dir("pcache_bad");
  std::filesystem::path file;
  vk::CacheIdentity id;
  {
    vk::Context ctx(in_dir(dir));
    file = ctx.pipelines().file();
    id = ctx.pipelines().identity();
    ctx.pipelines().get(small_pipeline());
  }
  const auto good = slurp(file);
  REQUIRE(good.size() > 56);

  SECTION("truncated") {
    spit(file, {good.begin(), good.begin() + long(good.size() / 2)});
    CHECK_THAT(reopen(dir), Catch::Contains("truncated"));
  }
  SECTION("garbage") {
    std::vector<char> g(4096);
    for (size_t i = 0; i < g.size(); ++i) g[i] = char((i * 2654435761u) >> 13);
    spit(file, g);
    CHECK_THAT(reopen(dir), Catch::Contains("not a vkflow"));
  }
  SECTION("foreign Vulkan header inside a well-formed file") {
    std::string why;
    auto blob = vk::unwrap_pipeline_cache(id, good, why);
    REQUIRE(blob);
    (*blob)[16] ^= 0x55;  // first byte of the pipelineCacheUUID
    spit(file, vk::wrap_pipeline_cache(id, *blob));
    CHECK_THAT(reopen(dir), Catch::Contains("another device"));
  }
  SECTION("empty file") {
    spit(file, {});
    CHECK_THAT(reopen(dir), Catch::Contains("truncated"));
  }
  // Whatever was there, the context rewrote a good file on exit.
  std::string why;
  CHECK(vk::unwrap_pipeline_cache(id, slurp(file), why));
  CHECK(reopen(dir).empty());
}

}  // namespace vkf
