// `vkflow tokenize` through the built binary against openai/CLIP SimpleTokenizer ids
// (shared/golden/tokenizer_cases.json: [49406] + encode(text) + [49407], untruncated).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/models/model_cli.h"

namespace mc = vkf::test::models_cli;

namespace {

// POSIX shell single-quoting (prompts contain quotes, apostrophes, tabs and non-ASCII bytes).
std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = s.find('\n', b)) != std::string::npos; b = e + 1) out.push_back(s.substr(b, e - b));
  if (b < s.size()) out.push_back(s.substr(b));
  return out;
}

}  // namespace

TEST_CASE("tokenize: prints the reference ids of several prompts, one JSON list per line", "[cpu][models][tokenize]") {
  auto doc = nlohmann::json::parse(mc::slurp(mc::fs::path(VKFLOW_SHARED_DIR) / "golden" / "tokenizer_cases.json"));
  const auto& cases = doc.at("cases");
  // Accented Latin (lower-casing of É), HTML entities (unescape), and the 93-token prompt (no truncation).
  std::vector<nlohmann::json> picked;
  for (const auto& c : cases) {
    const std::string t = c.at("text");
    if (t == "CAFÉ AU LAIT" || t == "rock &amp; roll &lt;3" || c.at("n_tokens").get<int>() > 77) picked.push_back(c);
  }
  REQUIRE(picked.size() == 3);
  std::string args = "tokenize --vocab " + mc::quote(mc::clip_vocab());
  for (const auto& c : picked) args += " " + sh_quote(c.at("text").get<std::string>());
  auto r = mc::vkflow(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == picked.size());
  for (size_t i = 0; i < picked.size(); ++i) {
    INFO("prompt: " << picked[i].at("text").get<std::string>() << "\nline: " << out[i]);
    CHECK(nlohmann::json::parse(out[i]) == picked[i].at("ids"));
  }
}

TEST_CASE("tokenize: --help, missing text, missing vocabulary and bad UTF-8 are reported", "[cpu][models][tokenize]") {
  auto help = mc::vkflow("tokenize --help");
  CHECK(help.code == 0);
  CHECK(help.out.find("--vocab") != std::string::npos);

  auto none = mc::vkflow("tokenize --vocab " + mc::quote(mc::clip_vocab()));
  CHECK(none.code == 2);
  CHECK(none.err.find("TEXT") != std::string::npos);

  auto missing = mc::vkflow("tokenize --vocab /nonexistent/vocab.txt.gz hello");
  CHECK(missing.code == 2);
  CHECK(missing.err.find("/nonexistent/vocab.txt.gz") != std::string::npos);

  // The second prompt is bad: nothing is printed, the message names which prompt and the byte.
  auto bad = mc::vkflow("tokenize --vocab " + mc::quote(mc::clip_vocab()) + " ok " + sh_quote("caf\xc3"));
  CHECK(bad.code == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("TEXT 2") != std::string::npos);
  CHECK(bad.err.find("UTF-8") != std::string::npos);
}
