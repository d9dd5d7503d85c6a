// Bad images through `vkflow run` (LoadImage -> SaveImage): damaged, empty, non-image and oversized files
// fail while running (exit 1) naming the node and the file (one too large for the device is refused by the
// memory plan first, exit 2); names that leave --input-dir (`..`, control
// characters, absolute paths to nothing, links to nothing outside) are refused at validation (exit 2)
// naming the node and input. In every case the output folder is left as it was (a file already there,
// nothing added). Symlinks placed in the input folder are the owner's and are followed, as documented in
// engine/io/safe_path.h: the CLI reads absolute paths too.
#include <catch2/catch.hpp>

#include <zlib.h>

#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  std::string body = type + data;
  uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size())));
  return be32(uint32_t(data.size())) + body + be32(crc);
}

// A PNG whose header says w x h (RGB, 8 bit) with a token IDAT: only the header matters for the limit.
std::string png_of_size(uint32_t w, uint32_t h) {
  std::string ihdr = be32(w) + be32(h) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)) +
         png_chunk("IEND", "");
}

// A scratch tree: in/ (--input-dir), outside/ (next to it), o/ (--output-dir, holding one earlier file),
// and the graph LoadImage(image) -> SaveImage.
struct Setup : TempDir {
  Setup() : TempDir("badimg") {
    fs::create_directories(path() / "in");
    fs::create_directories(path() / "outside");
    fs::create_directories(path() / "o");
    write_file(path() / "o" / "earlier_00001_.png", "kept");
    write_file(path() / "g.json", R"({
      "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
      "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "bad"}}})");
  }
  fs::path in() const { return path() / "in"; }
  RunOutput run(const std::vector<std::string>& sets, const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> a = {"run", (path() / "g.json").string(), "--quiet", "--input-dir", in().string(),
                                  "--output-dir", (path() / "o").string(), "--temp-dir", (path() / "t").string()};
    for (auto& s : sets) a.insert(a.end(), {"--set", s});
    a.insert(a.end(), extra.begin(), extra.end());
    return vkflow(a);
  }
  // The output folder as before: the earlier file, unchanged, and nothing else.
  void expect_output_unchanged() const {
    auto files = files_under(path() / "o");
    CHECK(files.size() == 1);
    CHECK(slurp(path() / "o" / "earlier_00001_.png") == "kept");
    CHECK_FALSE(fs::exists(path() / "t"));
  }
  void expect(const RunOutput& r, int code, const std::vector<std::string>& needles) const {
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK_FALSE(r.crashed());
    CHECK(r.code == code);
    for (auto& n : needles) {
      INFO("expected in stderr: " << n);
      CHECK(contains(r.err, n));
    }
    expect_output_unchanged();
  }
};

const std::string kExample = slurp(kGraphs / "input" / "example.png");

}  // namespace

TEST_CASE("bad images: names that leave --input-dir are refused at validation (exit 2)", "[e2e][bad_input][cpu]") {
  Setup s;
  fs::copy_file(kGraphs / "input" / "example.png", s / "outside" / "x.png");
  const std::string node = "node 1 (LoadImage) input 'image'";
  SECTION("'..' to a real image next to the folder") {
    s.expect(s.run({"1.image=../outside/x.png"}), 2, {node, "value_not_in_list", "'..' is not allowed"});
    s.expect(s.run({"1.image=sub/../../outside/x.png"}), 2, {node, "'..' is not allowed"});
  }
  SECTION("an absolute path to no file, or to a folder") {
    s.expect(s.run({"1.image=" + (s / "outside" / "missing.png").string()}), 2,
             {node, "missing.png", "does not exist (an absolute path must name an existing file)"});
    s.expect(s.run({"1.image=" + (s / "outside").string()}), 2, {node, "does not exist"});
  }
  SECTION("control characters: a NUL from the graph file, ESC and newline from --set") {
    auto g = load_json(s / "g.json");
    g["1"]["inputs"]["image"] = std::string("x.png\0../../etc/passwd", 22);
    write_file(s / "g.json", g.dump());
    s.expect(s.run({}), 2, {node, "control character (byte 0x00)"});
    auto r = s.run({"1.image=\x1b]0;title\x07x.png"});
    s.expect(r, 2, {node, "control character (byte 0x1B)"});
    CHECK_FALSE(contains(r.err, "\x1b"));  // never echoed raw to a terminal
    s.expect(s.run({"1.image=a\nb.png"}), 2, {node, "control character (byte 0x0A)"});
  }
  SECTION("a symlink in the folder pointing outside at nothing is not in the list") {
    fs::create_symlink(s / "outside" / "gone.png", s.in() / "dangling.png");
    s.expect(s.run({"1.image=dangling.png"}), 2, {node, "value_not_in_list", "'dangling.png' not in"});
  }
}

TEST_CASE("bad images: unreadable files fail in LoadImage naming the file (exit 1)", "[e2e][bad_input]") {
  Setup s;
  const std::string node = "error in node 1 (LoadImage)";
  SECTION("a PNG cut in the middle of its IDAT") {
    write_file(s.in() / "half.png", kExample.substr(0, kExample.size() / 2));
    s.expect(s.run({"1.image=half.png"}), 1, {node, "half.png", "damaged PNG: chunk 'IDAT'", "runs past the end"});
  }
  SECTION("a PNG cut after its last IDAT (no IEND)") {
    write_file(s.in() / "noend.png", kExample.substr(0, kExample.size() - 12));
    s.expect(s.run({"1.image=noend.png"}), 1, {node, "noend.png", "truncated PNG", "without an IEND chunk"});
  }
  SECTION("a PNG whose IDAT holds half a zlib stream (chunk lengths consistent)") {
    // signature + IHDR (33 bytes), then the first half of the compressed pixels in a well-formed chunk
    std::string idat = kExample.substr(41, 4000);
    write_file(s.in() / "shortz.png", kExample.substr(0, 33) + png_chunk("IDAT", idat) + png_chunk("IEND", ""));
    s.expect(s.run({"1.image=shortz.png"}), 1, {node, "shortz.png", "cannot decode image"});
  }
  SECTION("a text file named .png") {
    write_file(s.in() / "notes.png", "just some text, not an image\n");
    s.expect(s.run({"1.image=notes.png"}), 1, {node, "notes.png", "not a readable image"});
  }
  SECTION("a zero-byte file") {
    write_file(s.in() / "empty.png", "");
    s.expect(s.run({"1.image=empty.png"}), 1, {node, "empty.png", "empty file (0 bytes)"});
  }
  SECTION("a symlink in the folder pointing outside at a text file") {
    write_file(s / "outside" / "secret.txt", "not an image\n");
    fs::create_symlink(s / "outside" / "secret.txt", s.in() / "link.png");
    s.expect(s.run({"1.image=link.png"}), 1, {node, "link.png", "not a readable image"});
  }
}

TEST_CASE("bad images: a PNG over the pixel limit fails naming the size and the limit (exit 1)", "[e2e][bad_input]") {
  Setup s;
  const std::string node = "error in node 1 (LoadImage)";
  SECTION("10000x10000 under the default limit of 33554432") {
    write_file(s.in() / "big.png", png_of_size(10000, 10000));
    s.expect(s.run({"1.image=big.png"}), 1,
             {node, "big.png", "10000x10000 (100000000 pixels) exceeds the limit of 33554432 pixels"});
  }
  SECTION("100000x100000: refused by the memory plan first, by the limit when the plan is skipped") {
    // stb_image calls such a PNG "too large" and LoadImage used to report "not a readable image (unknown
    // image type)"; the size now comes from the IHDR, so the limit is named.
    write_file(s.in() / "huge.png", png_of_size(100000, 100000));
    s.expect(s.run({"1.image=huge.png"}), 2,
             {"planned device memory does not fit", "node 1 (LoadImage)", "100000x100000"});
    s.expect(s.run({"1.image=huge.png"}, {"--skip-memory-check"}), 1,
             {node, "huge.png", "100000x100000 (10000000000 pixels) exceeds the limit of 33554432 pixels"});
  }
  SECTION("the example image under --max-image-pixels 100") {
    write_file(s.in() / "example.png", kExample);
    s.expect(s.run({}, {"--max-image-pixels", "100"}), 1, {node, "example.png", "exceeds the limit of 100 pixels"});
  }
}

TEST_CASE("bad images: a symlink to an image outside the folder is the owner's and is read", "[e2e][bad_input]") {
  // The documented read policy (engine/io/safe_path.h): links the folder's owner placed are followed (a
  // graph cannot create one, and the CLI takes absolute paths anyway); writes through links are refused.
  Setup s;
  write_file(s / "outside" / "x.png", kExample);
  fs::create_symlink(s / "outside" / "x.png", s.in() / "linked.png");
  auto r = s.run({"1.image=linked.png"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(files_under(s / "o").size() == 2);
}
