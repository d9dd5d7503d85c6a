// CLIP tokenizer against the ids openai/CLIP's SimpleTokenizer produced (golden/tokenizer_cases.json).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "tests/text/tokenizer_fixture.h"

using vkf::text::ClipTokenizer;
using vkf::text::TokenizerError;
using namespace vkf::text::test;

namespace {

std::vector<int32_t> golden_ids(const nlohmann::json& c) { return c.at("ids").get<std::vector<int32_t>>(); }

const nlohmann::json& case_with_tokens(std::size_t n) {
  for (const auto& c : golden_cases().at("cases")) {
    if (c.at("n_tokens").get<std::size_t>() == n) return c;
  }
  throw std::runtime_error("no golden case with " + std::to_string(n) + " tokens");
}

}  // namespace

TEST_CASE("tokenizer: vocabulary constants match openai/CLIP", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  const auto& g = golden_cases();
  CHECK(tok.vocab_size() == g.at("vocab_size").get<std::size_t>());
  CHECK(tok.start_id() == g.at("bos_id").get<int32_t>());
  CHECK(tok.end_id() == g.at("eos_id").get<int32_t>());
}

TEST_CASE("tokenizer: every golden prompt gives the reference ids", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  const auto& cases = golden_cases().at("cases");
  REQUIRE(cases.size() >= 40);
  for (const auto& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    INFO("prompt: " << text);
    CHECK(tok.encode(text) == golden_ids(c));
  }
}

TEST_CASE("tokenizer: encode_padded truncates to 77 keeping the end token and pads", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  {  // the 93-token prompt: SD1.x keeps the first 76 ids and forces the last to 49407
    const auto ref = golden_ids(case_with_tokens(93));
    const auto ids = tok.encode_padded(case_with_tokens(93).at("text").get<std::string>());
    REQUIRE(ids.size() == 77);
    CHECK(std::equal(ids.begin(), ids.begin() + 76, ref.begin()));
    CHECK(ids.back() == 49407);
    CHECK(ref[76] != 49407);  // the cut really dropped a word token
  }
  {  // a short prompt is padded with the pad id (49407 for SD1.x, 0 for SD2.x)
    const auto ref = golden_ids(case_with_tokens(7));
    const std::string text = case_with_tokens(7).at("text").get<std::string>();
    for (int32_t pad : {49407, 0}) {
      const auto ids = tok.encode_padded(text, 77, pad);
      REQUIRE(ids.size() == 77);
      CHECK(std::equal(ref.begin(), ref.end(), ids.begin()));
      CHECK(std::all_of(ids.begin() + 7, ids.end(), [&](int32_t v) { return v == pad; }));
    }
  }
  const auto empty = tok.encode_padded("", 77);  // golden: "" -> [49406, 49407]
  CHECK(empty[0] == 49406);
  CHECK(std::all_of(empty.begin() + 1, empty.end(), [](int32_t v) { return v == 49407; }));
  CHECK(tok.encode_padded("a photo of a cat", 2) == std::vector<int32_t>{49406, 49407});
  CHECK_THROWS_AS(tok.encode_padded("a", 1), std::invalid_argument);
}

// Python-semantics checks phrased as equivalences, so they need no ids of our own making.
TEST_CASE("tokenizer: html.unescape, whitespace and str.lower semantics", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  CHECK(tok.encode("a&#x41;b&#66;") == tok.encode("aabb"));        // numeric references
  CHECK(tok.encode("x&nbsp;&nbsp;y") == tok.encode("x y"));        // U+00A0 is whitespace
  CHECK(tok.encode("&amp;amp;") == tok.encode("&"));               // unescaped twice
  CHECK(tok.encode("&amp;lt;3") == tok.encode("<3"));
  CHECK(tok.encode("&ampfoo") == tok.encode("&foo"));              // legacy name without ';'
  CHECK(tok.encode("&notit;") == tok.encode("\u00acit;"));         // longest known prefix
  CHECK(tok.encode("&bogus;&#;") == tok.encode("& bogus ;&#;"));   // unknown references stay as text
  CHECK(tok.encode("&#150;") == tok.encode("\u2013"));             // HTML5 cp1252 remap
  CHECK(tok.encode("a&#1;b") == tok.encode("ab"));                 // dropped control reference
  CHECK(tok.encode("a\u3000\t\n b\u2028") == tok.encode("a b"));   // Unicode whitespace collapses
  CHECK(tok.encode("\u039f\u0394\u039f\u03a3") == tok.encode("\u03bf\u03b4\u03bf\u03c2"));  // final sigma
  CHECK(tok.encode("\u03a3\u039f") == tok.encode("\u03c3\u03bf"));                          // not final
  CHECK(tok.encode("\u0130") == tok.encode("i\u0307"));           // U+0130 lowers to two code points
  CHECK(tok.encode("\u00c9T\u00c9") == tok.encode("\u00e9t\u00e9"));
  CHECK(tok.encode("\u041c\u041e\u0421\u041a\u0412\u0410") == tok.encode("\u043c\u043e\u0441\u043a\u0432\u0430"));
}

TEST_CASE("tokenizer: invalid UTF-8 is a clear error", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  CHECK_THROWS_WITH(tok.encode("abc\xff"), Catch::Contains("prompt is not valid UTF-8 at byte 3"));
  CHECK_THROWS_WITH(tok.encode("ab\xe2\x82"), Catch::Contains("at byte 2"));            // truncated
  CHECK_THROWS_WITH(tok.encode("\xc0\xaf"), Catch::Contains("at byte 0"));              // overlong
  CHECK_THROWS_WITH(tok.encode("x\xed\xa0\x80"), Catch::Contains("at byte 1"));         // surrogate
  CHECK_THROWS_WITH(tok.encode("x\xf4\x90\x80\x80"), Catch::Contains("at byte 1"));     // > U+10FFFF
  CHECK_THROWS_AS(tok.encode("caf\xc3"), TokenizerError);
}

TEST_CASE("tokenizer: a 10 000-word prompt is fast", "[cpu][tokenizer]") {
  const auto& tok = reference_tokenizer();
  // Words from the golden prompts (known tokenization) repeated, plus distinct synthetic words that
  // defeat the per-word cache.
  const auto& golden = case_with_tokens(93);
  const std::string base = golden.at("text").get<std::string>();
  std::string text;
  while (std::count(text.begin(), text.end(), ' ') < 5000) text += base + " ";
  std::mt19937 rng(1);
  for (int i = 0; i < 5000; ++i) {
    for (int k = 0; k < 8; ++k) text += static_cast<char>('a' + rng() % 26);
    text += ' ';
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok.encode(text);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("encode of " << text.size() << " bytes took " << s << " s");
  REQUIRE(ids.size() > 10000);
  CHECK(ids.front() == 49406);
  CHECK(ids.back() == 49407);
  const auto ref = golden_ids(golden);  // the repeated prompt tokenizes as in the golden case
  CHECK(std::equal(ref.begin(), ref.end() - 1, ids.begin()));
  CHECK(s < 5.0);  // generous for sanitizer builds; ~0.05 s in Release

  // One enormous "word": BPE is O(n log n) per piece, not O(n^2).
  std::string word;
  for (int i = 0; i < 200000; ++i) word += static_cast<char>('a' + rng() % 26);
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(tok.encode(word).size() > 2);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() < 10.0);
}
