// ComfyUI's prompt emphasis (comfy/sd1_clip.py token_weights / tokenize_with_weights), segment by segment:
// the expected segments and weights follow that code's rules by hand (no vkflow output is the reference).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>

#include "engine/text/prompt_weights.h"
#include "tests/text/tokenizer_fixture.h"

using namespace vkf::text;

namespace {
std::vector<std::pair<std::string, double>> segs(const std::string& p) {
  std::vector<std::pair<std::string, double>> out;
  for (auto& s : parse_prompt_weights(p)) out.emplace_back(s.text, s.weight);
  return out;
}
using S = std::vector<std::pair<std::string, double>>;
}  // namespace

TEST_CASE("prompt weights: ComfyUI's emphasis syntax", "[cpu][text][weights]") {
  CHECK(segs("a cat") == S{{"a cat", 1.0}});
  CHECK(segs("a (b:1.5) c") == S{{"a ", 1.0}, {"b", 1.5}, {" c", 1.0}});
  CHECK(segs("(b)") == S{{"b", 1.1}});
  CHECK(segs("((b))") == S{{"b", 1.1 * 1.1}});              // 1.1 per level, multiplied in double as Python
  CHECK(segs("((b:0.5))") == S{{"b", 0.5}});                // an explicit weight replaces the level's
  CHECK(segs("(a (b) c:2)") == S{{"a ", 2.0}, {"b", 2.2}, {" c", 2.0}});
  CHECK(segs("(b:1.5:2)") == S{{"b:1.5", 2.0}});            // the last colon
  CHECK(segs("(b: 0.25 )") == S{{"b", 0.25}});              // Python's float() takes surrounding spaces
  CHECK(segs("(b:x)") == S{{"b:x", 1.1}});                  // not a number: text, level weight
  CHECK(segs("(:1.5)") == S{{":1.5", 1.1}});                // a colon first is text
  CHECK(segs("(b:0x10)") == S{{"b:0x10", 1.1}});            // no hex floats (Python has none)
  CHECK(segs("(b:inf)") == S{{"b:inf", 1.1}});              // non-finite weights refused (vkflow: stays finite)
  CHECK(segs("\\(b:1.5\\)") == S{{"(b:1.5)", 1.0}});        // escaped parentheses are literal
  CHECK(segs("(a \\(x\\))") == S{{"a (x)", 1.1}});
  CHECK(segs("a (b") == S{{"a ", 1.0}, {"(b", 1.0}});       // unbalanced: text
  CHECK(segs("a) b") == S{{"a) b", 1.0}});
  CHECK(segs("").empty());
  CHECK(segs("()") == S{});                                   // nothing inside: no segment
  std::string deep(kMaxEmphasisDepth + 1, '(');
  deep += "x" + std::string(kMaxEmphasisDepth + 1, ')');
  CHECK_THROWS_WITH(parse_prompt_weights(deep), Catch::Contains("nests parentheses deeper than"));
  std::string ok(kMaxEmphasisDepth, '(');
  ok += "x" + std::string(kMaxEmphasisDepth, ')');
  REQUIRE(parse_prompt_weights(ok).size() == 1);
}

TEST_CASE("prompt weights: windows as ComfyUI lays segments out", "[cpu][text][weights]") {
  const auto& tok = test::reference_tokenizer();
  const int32_t S0 = tok.start_id(), E = tok.end_id();
  const auto body = [&](const std::string& t) {
    auto ids = tok.encode(t);
    return std::vector<int32_t>(ids.begin() + 1, ids.end() - 1);
  };
  SECTION("an unweighted prompt: the same ids as tokenizing it whole, weights 1, padded") {
    const auto w = tokenize_weighted(tok, "a photo of a cat", 77, 49407);
    REQUIRE(w.ids.size() == 1);
    std::vector<int32_t> want = tok.encode("a photo of a cat");
    want.resize(77, 49407);
    CHECK(w.ids[0] == want);
    CHECK_FALSE(w.weighted());
    CHECK(w.weights[0] == std::vector<float>(77, 1.0f));
  }
  SECTION("each segment tokenized on its own, its weight on its tokens only") {
    const auto w = tokenize_weighted(tok, "a (red:1.5) cat", 77, 0);
    const auto a = body("a "), r = body("red"), c = body(" cat");
    std::vector<int32_t> want = {S0};
    std::vector<float> ww = {1.0f};
    for (auto x : a) want.push_back(x), ww.push_back(1.0f);
    for (auto x : r) want.push_back(x), ww.push_back(1.5f);
    for (auto x : c) want.push_back(x), ww.push_back(1.0f);
    want.push_back(E), ww.push_back(1.0f);
    want.resize(77, 0);
    ww.resize(77, 1.0f);
    REQUIRE(w.ids.size() == 1);
    CHECK(w.ids[0] == want);
    CHECK(w.weights[0] == ww);
    CHECK(w.weighted());
  }
  SECTION("the empty prompt is one window [start, end, pad...]") {
    const auto w = tokenize_weighted(tok, "", 77, 0);
    REQUIRE(w.ids.size() == 1);
    CHECK(w.ids[0][0] == S0);
    CHECK(w.ids[0][1] == E);
    CHECK(w.ids[0][2] == 0);
  }
  SECTION("a short segment that does not fit moves whole to the next window; a long one is split") {
    // Window length 12: [start] + 10 body + [end].
    const std::string long8 = "one two three four five six seven eight nine";  // 9 tokens: split
    REQUIRE(body(long8).size() == 9);
    const auto w = tokenize_weighted(tok, long8 + " (cat dog fish:1.2)", 12, 0);
    // 9 body tokens, then the 3-token weighted group does not fit the 1 place left: end, pad, new window.
    REQUIRE(w.ids.size() == 2);
    CHECK(w.ids[0][10] == E);
    CHECK(w.ids[0][11] == 0);
    CHECK(w.ids[1][0] == S0);
    CHECK(std::vector<float>(w.weights[1].begin() + 1, w.weights[1].begin() + 4) == std::vector<float>(3, 1.2f));
    CHECK(w.ids[1][4] == E);
    const auto split = tokenize_weighted(tok, long8 + " " + long8, 12, 0);  // 18 tokens, groups of >= 8: split
    REQUIRE(split.ids.size() == 2);
    CHECK(split.ids[0][11] == E);  // 10 body tokens fill the first window
    CHECK(split.ids[1][9] == E);   // 8 left in the second
  }
  SECTION("windows_from_ids keeps the old 75-token windows") {
    std::vector<int32_t> ids = {S0};
    for (int i = 0; i < 80; ++i) ids.push_back(320 + i);
    ids.push_back(E);
    const auto w = windows_from_ids(ids, 77, 49407);
    REQUIRE(w.ids.size() == 2);
    CHECK(w.ids[0][75] == 320 + 74);
    CHECK(w.ids[0][76] == E);
    CHECK(w.ids[1][1] == 320 + 75);
    CHECK(w.ids[1][6] == E);
    CHECK(w.ids[1][7] == 49407);
  }
  SECTION("tiny windows never loop") {
    const auto w = tokenize_weighted(tok, "(a photo of a cat:1.1)", 3, 0);
    CHECK(w.ids.size() == body("a photo of a cat").size());
  }
}

TEST_CASE("prompt weights: a weight beyond float range is text, nesting saturates (fuzz regression)",
          "[cpu][text][weights]") {
  // fuzz_tokenizer (tests/fuzz/tokenizer/crash_float_weight_overflow): "(x:2322...2)" is finite as a double
  // (2.3e108) and was taken as a weight, then became inf as the f32 weight.
  CHECK(segs("(x:1e39)") == S{{"x:1e39", 1.1}});
  CHECK(segs("(x:-1e39)") == S{{"x:-1e39", 1.1}});
  CHECK(segs("(x:" + std::string(120, '2') + ")").at(0).second == 1.1);
  CHECK(segs("(x:3e38)") == S{{"x", 3e38}});
  auto nested = segs("((((x)):3e38))");  // 3e38 * 1.1 * 1.1 is past FLT_MAX: held at it
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].second <= double(FLT_MAX));
  CHECK(std::isfinite(float(nested[0].second)));
}
