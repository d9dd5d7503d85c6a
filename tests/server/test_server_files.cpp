// GET /view of the input and temp folders, and POST /upload/image to the temp and output folders, as
// ComfyUI's server.py: a bad type is 400, a missing file 404; a filename with a NUL byte and a subfolder
// that is a symlink out of the folder are refused with nothing written anywhere. In-process (App::handle).
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/io/png.h"
#include "tests/server/server_fixture.h"

using namespace vkf;
using namespace vkf::test::srv;

namespace {
std::string tiny_png() {
  const auto bytes = io::encode_png(std::vector<uint8_t>(12, 90), 2, 2, 3, {});
  return std::string(bytes.begin(), bytes.end());
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

size_t files_below(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// A multipart upload as ComfyUI's frontend sends it: the image part, then the other fields.
Response upload(Server& s, const std::string& filename, const std::string& data,
                const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string b = "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
                  "\"\r\nContent-Type: image/png\r\n\r\n" + data + "\r\n";
  for (auto& [k, v] : fields) b += "--XyZ\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  b += "--XyZ--\r\n";
  Request r = req("POST", "/upload/image", b);
  r.headers["content-type"] = "multipart/form-data; boundary=XyZ";
  return s(r);
}
}  // namespace

TEST_CASE("serve: /view reads the input and temp folders by type, 400 for another type, 404 when missing",
          "[server][cpu]") {
  Server s;
  const fs::path in = s.dirs.root / "input", tmp = s.dirs.root / "temp", out = s.dirs.root / "output";
  fs::create_directories(tmp / "prev");
  { std::ofstream(in / "same.png") << "INPUT"; }
  { std::ofstream(tmp / "same.png") << "TEMP"; }
  { std::ofstream(out / "same.png") << "OUTPUT"; }
  { std::ofstream(tmp / "prev" / "p.jpg") << "JPG"; }

  auto r = s(req("GET", "/view?filename=same.png&type=input"));
  REQUIRE(r.status == 200);
  CHECK(r.body == "INPUT");
  CHECK(r.content_type == "image/png");
  r = s(req("GET", "/view?filename=same.png&type=temp"));
  REQUIRE(r.status == 200);
  CHECK(r.body == "TEMP");
  CHECK(s(req("GET", "/view?filename=same.png")).body == "OUTPUT");  // type defaults to output, as ComfyUI
  r = s(req("GET", "/view?filename=p.jpg&subfolder=prev&type=temp"));
  REQUIRE(r.status == 200);
  CHECK(r.body == "JPG");
  CHECK(r.content_type == "image/jpeg");
  bool disposition = false;
  for (auto& [k, v] : r.headers) disposition |= k == "Content-Disposition" && v == "filename=\"p.jpg\"";
  CHECK(disposition);

  for (const char* t : {"/view?filename=same.png&type=models", "/view?filename=same.png&type=",
                        "/view?filename=same.png&type=INPUT", "/view?filename=same.png&type=../input"}) {
    INFO(t);
    CHECK(s(req("GET", t)).status == 400);
  }
  for (const char* t : {"/view?filename=nope.png&type=input", "/view?filename=nope.png&type=temp",
                        "/view?filename=p.jpg&type=temp", "/view?filename=same.png&subfolder=prev&type=temp",
                        "/view?filename=prev&type=temp"}) {  // a folder is not a file
    INFO(t);
    CHECK(s(req("GET", t)).status == 404);
  }
  CHECK(s(req("GET", "/view?type=input")).status == 400);  // no filename
}

TEST_CASE("serve: /upload/image writes to the temp and output folders by type", "[server][cpu]") {
  Server s;
  const std::string png = tiny_png();
  auto r = upload(s, "t.png", png, {{"type", "temp"}});
  REQUIRE(r.status == 200);
  CHECK(body(r) == json({{"name", "t.png"}, {"subfolder", ""}, {"type", "temp"}}));
  CHECK(slurp(s.dirs.root / "temp" / "t.png") == png);  // the temp folder did not exist before
  CHECK_FALSE(fs::exists(s.dirs.root / "input" / "t.png"));

  r = upload(s, "o.png", png, {{"type", "output"}, {"subfolder", "ups"}});
  REQUIRE(r.status == 200);
  CHECK(body(r) == json({{"name", "o.png"}, {"subfolder", "ups"}, {"type", "output"}}));
  CHECK(slurp(s.dirs.root / "output" / "ups" / "o.png") == png);
  // What was uploaded is what /view serves under the same type and subfolder.
  CHECK(s(req("GET", "/view?filename=o.png&subfolder=ups&type=output")).body == png);
  CHECK(s(req("GET", "/view?filename=t.png&type=temp")).body == png);
  // The same name with other bytes: renamed, not overwritten (without overwrite=true), in that type's
  // folder; with the same bytes: the existing name, no copy.
  const auto other = io::encode_png(std::vector<uint8_t>(12, 7), 2, 2, 3, {});
  r = upload(s, "o.png", std::string(other.begin(), other.end()), {{"type", "output"}, {"subfolder", "ups"}});
  CHECK(body(r)["name"] == "o (1).png");
  CHECK(fs::exists(s.dirs.root / "output" / "ups" / "o (1).png"));
  CHECK(slurp(s.dirs.root / "output" / "ups" / "o.png") == png);
  CHECK(body(upload(s, "t.png", png, {{"type", "temp"}}))["name"] == "t.png");
  CHECK_FALSE(fs::exists(s.dirs.root / "temp" / "t (1).png"));
  CHECK(upload(s, "x.png", png, {{"type", "checkpoints"}}).status == 400);
  CHECK(files_below(s.dirs.root / "input") == 0);
}

TEST_CASE("serve: /upload/image refuses a filename with a NUL byte and a subfolder symlinked out", "[server][cpu]") {
  Server s;
  const std::string png = tiny_png();
  const fs::path in = s.dirs.root / "input", outside = s.dirs.root / "outside";
  fs::create_directories(outside);

  // A NUL would cut the name at the system call ("a.png\0.txt" would write "a.png"): refused whole.
  for (const std::string& name : {std::string("a.png\0.txt", 10), std::string("\0", 1), std::string("b\0/../../c.png", 14)}) {
    INFO("name of " << name.size() << " bytes");
    auto r = upload(s, name, png, {});
    CHECK(r.status == 400);
  }
  CHECK(upload(s, "ok.png", png, {{"subfolder", std::string("su\0b", 4)}}).status == 400);
  CHECK(files_below(in) == 0);

  // A subfolder that is a symlink to a folder outside: refused (403), for every type, nested or not,
  // with nothing written outside (not even a created folder).
  fs::create_directory_symlink(outside, in / "link");
  fs::create_directories(s.dirs.root / "temp");
  fs::create_directory_symlink(outside, s.dirs.root / "temp" / "tlink");
  for (auto& [type, sub] : std::vector<std::pair<std::string, std::string>>{
           {"input", "link"}, {"input", "link/deeper"}, {"input", "link/../link"}, {"temp", "tlink"}, {"temp", "tlink/x/y"}}) {
    INFO(type << " " << sub);
    auto r = upload(s, "evil.png", png, {{"type", type}, {"subfolder", sub}});
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
  }
  CHECK(fs::is_empty(outside));
  // A symlinked file name is refused too (the upload would write through it).
  { std::ofstream(outside / "target.png") << "KEEP"; }
  fs::create_symlink(outside / "target.png", in / "f.png");
  CHECK(upload(s, "f.png", png, {{"overwrite", "true"}}).status == 403);
  CHECK(slurp(outside / "target.png") == "KEEP");
  // A real subfolder inside still works.
  CHECK(upload(s, "fine.png", png, {{"subfolder", "real/sub"}}).status == 200);
  CHECK(slurp(in / "real" / "sub" / "fine.png") == png);
}
