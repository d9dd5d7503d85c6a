// Prompt emphasis through the text towers (models::encode_prompt with weighted windows), as ComfyUI's
// encode_token_weights computes it: the prompt's windows and an empty-prompt window are encoded together,
// and each weighted token's output is (z - z_empty) * w + z_empty; the pooled output is the unweighted one.
// The reference is that formula over the same encoder's unweighted outputs (the towers themselves are
// checked against the goldens elsewhere). Bound 1e-5 of max|z|: fp32, the formula's few flops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/models/checkpoint.h"
#include "engine/models/prompt_encode.h"
#include "tests/models/golden_models.h"
#include "tests/support/gpu.h"
#include "tests/text/tokenizer_fixture.h"

using namespace vkf;

namespace {
text::TokenWindows windows(const models::ClipTextEncoder* enc, const std::string& p) {
  if (!enc) return {};
  return text::tokenize_weighted(text::test::reference_tokenizer(), p, size_t(enc->config().max_positions),
                                 enc->config().pad_id);
}
text::TokenWindows unweighted(text::TokenWindows w) {
  for (auto& ws : w.weights) std::fill(ws.begin(), ws.end(), 1.0f);
  return w;
}
}  // namespace

TEST_CASE("prompt weights: a weighted token's output is (z - z_empty) * w + z_empty", "[text][weights][golden]") {
  for (const char* dir : {"sd1_tiny_a", "sdxl_tiny_a"}) {
    INFO(dir);
    models::LoadOptions o;
    o.config = test::kGoldenDir / dir / "config.json";
    o.unet = o.vae = false;
    o.dtype = DType::F32;
    auto ck = models::load_checkpoint(test::gpu(), test::kGoldenDir / dir / "ckpt.safetensors", o);
    const std::string prompt = "a cozy (cabin:1.3) in the ((snowy woods)), (night:0.6)";
    const auto wl = windows(ck->text.get(), prompt), wg = windows(ck->text_g.get(), prompt);
    const auto& ref_w = ck->text ? wl : wg;
    REQUIRE(ref_w.ids.size() == 1);
    REQUIRE(ref_w.weighted());
    const auto weighted = models::encode_prompt(test::gpu(), *ck, wl, wg);
    const auto plain = models::encode_prompt(test::gpu(), *ck, unweighted(wl), unweighted(wg));
    const auto empty = models::encode_prompt(test::gpu(), *ck, windows(ck->text.get(), ""), windows(ck->text_g.get(), ""));
    const auto z = to_host(test::gpu(), weighted.context), zu = to_host(test::gpu(), plain.context),
               ze = to_host(test::gpu(), empty.context);
    REQUIRE(z.size() == zu.size());
    REQUIRE(ze.size() == zu.size());
    const int64_t T = weighted.context.dim(1), D = weighted.context.dim(2);
    double max_ref = 0, max_err = 0, max_effect = 0;
    int weighted_tokens = 0;
    for (int64_t j = 0; j < T; ++j) {
      const float w = ref_w.weights[0][size_t(j)];
      if (w != 1.0f) ++weighted_tokens;
      for (int64_t d = 0; d < D; ++d) {
        const size_t i = size_t(j * D + d);
        const double want = w == 1.0f ? zu[i] : (double(zu[i]) - ze[i]) * w + ze[i];
        max_ref = std::max(max_ref, std::abs(want));
        max_err = std::max(max_err, std::abs(double(z[i]) - want));
        max_effect = std::max(max_effect, std::abs(double(z[i]) - zu[i]));
      }
    }
    // (cabin) 1.3, (snowy woods) 1.21, (night) 0.6: at least one token each.
    CHECK(weighted_tokens >= 4);
    INFO("max err " << max_err << " of max|ref| " << max_ref << "; largest change by the weights " << max_effect);
    CHECK(max_err <= 1e-5 * max_ref);
    CHECK(max_effect > 1e-3 * max_ref);  // the weights do change the context
    // Pooled: the unweighted first window's (encoded in a batch of 2 here, of 1 there: rounding may differ).
    const auto p = to_host(test::gpu(), weighted.pooled), pu = to_host(test::gpu(), plain.pooled);
    REQUIRE(p.size() == pu.size());
    double pmax = 0, perr = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      pmax = std::max(pmax, double(std::abs(pu[i])));
      perr = std::max(perr, double(std::abs(p[i] - pu[i])));
    }
    CHECK(perr <= 1e-5 * pmax);
  }
}
