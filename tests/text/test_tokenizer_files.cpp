// CLIP tokenizer vocabulary sources (gz, plain text, Hugging Face vocab.json + merges.txt), their
// error handling, and find_clip_vocab's lookup order.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>

#include "engine/text/vocab_loader.h"
#include "tests/text/tokenizer_fixture.h"

using vkf::text::ClipTokenizer;
using vkf::text::TokenizerError;
using namespace vkf::text::test;
namespace fs = std::filesystem;

namespace {

std::string gunzip_reference() {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(clip_gz().c_str(), "rb"), gzclose);
  REQUIRE(gz);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(gz.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// Every golden prompt through `tok`, with ids passed through `map` (identity unless vocab.json permutes).
template <class Map>
void check_golden(const ClipTokenizer& tok, Map map) {
  for (const auto& c : golden_cases().at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    std::vector<int32_t> want;
    for (int32_t id : c.at("ids").get<std::vector<int32_t>>()) want.push_back(map(id));
    INFO("prompt: " << text);
    CHECK(tok.encode(text) == want);
  }
}

// Writes a Hugging Face pair built from the reference merges, ids shifted by `offset` (mod vocab size)
// so that the test proves the ids come from vocab.json.
void write_hf_pair(const fs::path& vocab_json, const fs::path& merges_txt, int32_t offset) {
  const auto data = vkf::text::load_clip_vocab(clip_gz());
  const auto n = static_cast<int32_t>(data.vocab.size());
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [token, id] : data.vocab) j[token] = (id + offset) % n;
  write_file(vocab_json, j.dump());
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : data.merges) merges += a + " " + b + "\n";
  write_file(merges_txt, merges);
}

struct EnvGuard {  // VKFLOW_CLIP_VOCAB restored at scope exit
  std::optional<std::string> saved;
  EnvGuard() {
    if (const char* v = std::getenv("VKFLOW_CLIP_VOCAB")) saved = v;
    ::unsetenv("VKFLOW_CLIP_VOCAB");
  }
  ~EnvGuard() {
    if (saved) {
      ::setenv("VKFLOW_CLIP_VOCAB", saved->c_str(), 1);
    } else {
      ::unsetenv("VKFLOW_CLIP_VOCAB");
    }
  }
};

}  // namespace

TEST_CASE("tokenizer files: Hugging Face vocab.json + merges.txt", "[cpu][tokenizer]") {
  TempDir dir("tok");
  write_hf_pair(dir.path() / "vocab.json", dir.path() / "merges.txt", 1000);
  const int32_t n = 49408;
  auto shifted = [&](int32_t id) { return (id + 1000) % n; };
  const auto tok = ClipTokenizer::from_file(dir.path() / "vocab.json");
  CHECK(tok.vocab_size() == 49408);
  CHECK(tok.start_id() == shifted(49406));
  CHECK(tok.end_id() == shifted(49407));
  check_golden(tok, shifted);
  // The same pair reached through merges.txt or the directory.
  CHECK(ClipTokenizer::from_file(dir.path() / "merges.txt").encode("a photo of a cat") == tok.encode("a photo of a cat"));
  CHECK(ClipTokenizer::from_file(dir.path()).start_id() == shifted(49406));

  SECTION("<stem>.vocab.json pairs with <stem>.merges.txt") {
    TempDir d2("tok");
    write_hf_pair(d2.path() / "sd15.vocab.json", d2.path() / "sd15.merges.txt", 0);
    check_golden(ClipTokenizer::from_file(d2.path() / "sd15.vocab.json"), [](int32_t id) { return id; });
  }
  SECTION("a vocab.json without merges.txt names the file") {
    TempDir d2("tok");
    fs::copy_file(dir.path() / "vocab.json", d2.path() / "vocab.json");
    CHECK_THROWS_WITH(ClipTokenizer::from_file(d2.path() / "vocab.json"),
                      Catch::Contains("vocab.json") && Catch::Contains("merges.txt"));
  }
}

TEST_CASE("tokenizer files: plain-text merges and directories", "[cpu][tokenizer]") {
  TempDir dir("tok");
  write_file(dir.path() / "bpe_simple_vocab_16e6.txt", gunzip_reference());
  check_golden(ClipTokenizer::from_file(dir.path() / "bpe_simple_vocab_16e6.txt"), [](int32_t id) { return id; });
  CHECK(ClipTokenizer::from_file(dir.path()).vocab_size() == 49408);  // directory route
  CHECK_THROWS_WITH(ClipTokenizer::from_file(dir.path() / "nope.txt.gz"), Catch::Contains("nope.txt.gz"));
}

TEST_CASE("tokenizer files: corrupt or truncated gz is a clear error", "[cpu][tokenizer]") {
  TempDir dir("tok");
  const std::string gz = read_file(clip_gz());
  REQUIRE(gz.size() > 1000);
  const fs::path truncated = dir.path() / "truncated.txt.gz";
  write_file(truncated, gz.substr(0, gz.size() / 2));
  CHECK_THROWS_WITH(ClipTokenizer::from_file(truncated), Catch::Contains("truncated.txt.gz"));
  CHECK_THROWS_AS(ClipTokenizer::from_file(truncated), TokenizerError);

  const fs::path garbage = dir.path() / "garbage.txt.gz";
  std::string bad = gz;
  for (std::size_t i = 200; i < 400; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5A);  // damage deflate data
  write_file(garbage, bad);
  CHECK_THROWS_WITH(ClipTokenizer::from_file(garbage), Catch::Contains("garbage.txt.gz"));

  const fs::path plain = dir.path() / "not_gzip.txt.gz";
  write_file(plain, "hello\nworld\n");
  CHECK_THROWS_WITH(ClipTokenizer::from_file(plain), Catch::Contains("not_gzip.txt.gz") && Catch::Contains("gzip"));

  const fs::path malformed = dir.path() / "malformed.txt";
  write_file(malformed, "#version: 0.2\ni n\nthree fields here\n");
  CHECK_THROWS_WITH(ClipTokenizer::from_file(malformed), Catch::Contains("malformed.txt") && Catch::Contains("line 3"));
}

TEST_CASE("tokenizer files: find_clip_vocab lookup order and missing-vocab error", "[cpu][tokenizer]") {
  EnvGuard env;
  TempDir root("tok");
  const fs::path models = root.path() / "models";
  const fs::path ckpt_dir = root.path() / "ckpts";
  fs::create_directories(models);
  fs::create_directories(ckpt_dir);
  const fs::path ckpt = ckpt_dir / "sd15.safetensors";

  SECTION("nothing anywhere: the error says where to put it and what was tried") {
    try {
      vkf::text::find_clip_vocab(std::nullopt, models, ckpt);
      FAIL("expected an error");
    } catch (const TokenizerError& e) {
      const std::string msg = e.what();
      CHECK_THAT(msg, Catch::Contains((models / "clip_vocab").string()));
      CHECK_THAT(msg, Catch::Contains("bpe_simple_vocab_16e6.txt.gz"));
      CHECK_THAT(msg, Catch::Contains("--clip-vocab"));
      CHECK_THAT(msg, Catch::Contains("VKFLOW_CLIP_VOCAB"));
      CHECK_THAT(msg, Catch::Contains((ckpt_dir / "sd15.vocab.json").string()));
      CHECK_THAT(msg, Catch::Contains((ckpt_dir / "merges.txt").string()));
    }
  }
  SECTION("precedence: flag, env, models dir, beside the checkpoint") {
    fs::copy_file(clip_gz(), ckpt_dir / "bpe_simple_vocab_16e6.txt.gz");
    CHECK(vkf::text::find_clip_vocab(std::nullopt, models, ckpt) == ckpt_dir / "bpe_simple_vocab_16e6.txt.gz");
    write_file(ckpt_dir / "sd15.vocab.json", "{}");
    CHECK(vkf::text::find_clip_vocab(std::nullopt, models, ckpt) == ckpt_dir / "sd15.vocab.json");
    fs::create_directories(models / "clip_vocab");
    fs::copy_file(clip_gz(), models / "clip_vocab" / "bpe_simple_vocab_16e6.txt.gz");
    CHECK(vkf::text::find_clip_vocab(std::nullopt, models, ckpt) == models / "clip_vocab");
    ::setenv("VKFLOW_CLIP_VOCAB", clip_gz().c_str(), 1);
    CHECK(vkf::text::find_clip_vocab(std::nullopt, models, ckpt) == clip_gz());
    CHECK(vkf::text::find_clip_vocab(ckpt_dir, models, ckpt) == ckpt_dir);
    // The found path loads.
    CHECK(ClipTokenizer::from_file(vkf::text::find_clip_vocab(std::nullopt, models, ckpt)).vocab_size() == 49408);
    CHECK(ClipTokenizer::from_file(models / "clip_vocab").vocab_size() == 49408);
  }
  SECTION("an explicit flag or env path that does not exist is an error, not a fallback") {
    CHECK_THROWS_WITH(vkf::text::find_clip_vocab(root.path() / "missing.gz", models, ckpt),
                      Catch::Contains("--clip-vocab") && Catch::Contains("missing.gz"));
    ::setenv("VKFLOW_CLIP_VOCAB", (root.path() / "gone").c_str(), 1);
    CHECK_THROWS_WITH(vkf::text::find_clip_vocab(std::nullopt, models, ckpt),
                      Catch::Contains("VKFLOW_CLIP_VOCAB") && Catch::Contains("gone"));
  }
}
