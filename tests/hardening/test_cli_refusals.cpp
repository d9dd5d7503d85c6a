// `vkflow run` refuses path-like inputs that leave their folder, control characters in names, and too
// deeply nested JSON at validation or parse time: exit 2, a message in ComfyUI's words, nothing written
// anywhere. These stop before any GPU work, so they run under ASan too.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_util.h"

using namespace vkf::e2e;

namespace {

struct Refusal {
  RunOutput r;
  std::vector<fs::path> left;  // files below the scratch folder afterwards (output dir and its parent)
};

Refusal run_txt2img(const std::vector<std::string>& sets, const fs::path& graph = kGraphs / "txt2img.json") {
  TempDir scratch("refuse");
  fs::create_directories(scratch / "o" / "d");
  std::vector<std::string> a = {"run", graph.string(), "--quiet", "--output-dir", (scratch / "o" / "d").string(),
                                "--input-dir", (kGraphs / "input").string()};
  for (auto& s : sets) a.insert(a.end(), {"--set", s});
  Refusal c{vkflow(a), files_under(scratch.path())};
  return c;
}

void expect_refused(const Refusal& c, const std::string& needle) {
  INFO("stdout: " << c.r.out << "\nstderr: " << c.r.err);
  CHECK_FALSE(c.r.crashed());
  CHECK(c.r.code == 2);
  CHECK(c.left.empty());
  CHECK(contains(c.r.err, needle));
}

}  // namespace

TEST_CASE("run: filename_prefix and file names outside their folder are refused at validation", "[hardening][cpu]") {
  expect_refused(run_txt2img({"9.filename_prefix=../../x"}), "Saving image outside the output folder is not allowed");
  expect_refused(run_txt2img({"9.filename_prefix=/tmp/vkflow_abs_prefix"}), "outside the output folder");
  expect_refused(run_txt2img({"9.filename_prefix=a\x01" "b"}), "control character");
  expect_refused(run_txt2img({"4.ckpt_name=../checkpoints/vkflow-fashion.safetensors"}), "'..' is not allowed");
  CHECK_FALSE(fs::exists("/tmp/vkflow_abs_prefix_00001_.png"));
  // A NUL only a graph file can carry (JSON "\u0000"): refused, not cut to "ab".
  TempDir d("nulprefix");
  auto doc = load_json(kGraphs / "txt2img.json");
  doc["9"]["inputs"]["filename_prefix"] = std::string("ab\0cd", 5);
  write_file(d / "g.json", doc.dump());
  expect_refused(run_txt2img({}, d / "g.json"), "control character (byte 0x00)");
}

TEST_CASE("run: a symlink in the output folder pointing outside is not written through", "[hardening][cpu]") {
  TempDir scratch("symlink");
  fs::create_directories(scratch / "o");
  fs::create_directories(scratch / "outside");
  fs::create_directory_symlink(scratch / "outside", scratch / "o" / "link");
  auto r = vkflow({"run", (kGraphs / "txt2img.json").string(), "--quiet", "--output-dir", (scratch / "o").string(),
                   "--set", "9.filename_prefix=link/x"});
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(contains(r.err, "outside the output folder"));
  CHECK(files_under(scratch / "outside").empty());
}

TEST_CASE("run: JSON nested 10^5 levels deep is a parse error, not a crash", "[hardening][cpu]") {
  TempDir d("deep");
  auto doc = load_json(kGraphs / "txt2img.json");
  std::string text = doc.dump();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  // in _meta of a node, and in an extra top-level key
  std::string in_meta = text, extra = text;
  in_meta.replace(in_meta.find("\"_meta\":{") + 9, 0, "\"deep\":" + deep + ",");
  extra.replace(1, 0, "\"x\":" + deep + ",");
  for (auto* t : {&in_meta, &extra}) {
    write_file(d / "g.json", *t);
    auto r = vkflow({"run", (d / "g.json").string(), "--quiet", "--output-dir", (d / "o").string()});
    INFO(r.err);
    CHECK_FALSE(r.crashed());
    CHECK(r.code == 2);
    CHECK(contains(r.err, "nested deeper than 512 levels"));
    CHECK(files_under(d / "o").empty());
  }
  // A UI workflow (its "nodes" list makes it one) and a --set value.
  write_file(d / "wf.json", "{\"nodes\":[], \"links\":[], \"extra\":" + deep + "}");
  auto r = vkflow({"run", (d / "wf.json").string(), "--quiet", "--output-dir", (d / "o").string()});
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 2);
  CHECK(contains(r.err, "nested deeper"));
  r = vkflow({"run", (kGraphs / "txt2img.json").string(), "--quiet", "--output-dir", (d / "o").string(), "--set",
              "6.text=" + std::string(1000, '[') + std::string(1000, ']')});  // an argument is at most 128 KiB
  CHECK_FALSE(r.crashed());
  CHECK(r.code == 2);
  CHECK(contains(r.err, "nested deeper"));
}
