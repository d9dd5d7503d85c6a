// Bad inputs to `vkflow eval` and the tokenizer: every one ends with a clear message that names the
// file / tensor, exit code 1 or 2, no crash or hang, and no output file left behind.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>

#include "engine/io/safetensors_writer.h"
#include "engine/text/clip_tokenizer.h"
#include "tests/models/model_cli.h"

using namespace vkf;
namespace mc = vkf::test::models_cli;

namespace {

const mc::fs::path& ckpt() {
  static const mc::fs::path p = mc::golden_dir() / "ckpt.safetensors";
  return p;
}
const mc::fs::path& config() {
  static const mc::fs::path p = mc::golden_dir() / "config.json";
  return p;
}

// Copy of `src` with tensor `drop` left out and `replace` (name -> new F32 shape, zero data) applied.
void rewrite(const mc::fs::path& src, const mc::fs::path& dst, const std::string& drop, const std::string& reshape = "",
             std::vector<int64_t> new_shape = {}) {
  auto st = io::SafeTensors::open(src);
  io::SafeTensorsWriter w;
  for (const auto& t : st.tensors()) {
    if (t.name == drop) continue;
    if (t.name == reshape)
      w.add_zeros(t.name, io::StDType::F32, new_shape);
    else
      w.add(t.name, t.dtype, t.shape, st.bytes(t));
  }
  w.write(dst);
}

// Runs a unet eval that must fail: non-zero exit (1 or 2), `needles` in the message, no output.
void expect_failure(const std::string& what, const mc::fs::path& ck, const mc::fs::path& inputs,
                    std::initializer_list<std::string> needles) {
  const auto out = mc::temp_dir() / "must_not_exist.safetensors";
  std::error_code ec;
  mc::fs::remove(out, ec);
  // `timeout`: a hang is a failure (exit 124), not a stuck test run.
  auto r = mc::run_program("timeout 120 " + mc::quote(VKFLOW_BINARY),
                           "eval " + what + " --checkpoint " + mc::quote(ck) + " --config " + mc::quote(config()) +
                               " --inputs " + mc::quote(inputs) + " --output " + mc::quote(out));
  INFO("exit " << r.code << ", stderr: " << r.err);
  CHECK((r.code == 1 || r.code == 2));
  for (const auto& n : needles) CHECK(r.err.find(n) != std::string::npos);
  CHECK_FALSE(mc::fs::exists(out));
  CHECK_FALSE(mc::fs::exists(out.string() + ".tmp"));
}

}  // namespace

TEST_CASE("bad input: truncated checkpoint", "[models][bad_input]") {
  const auto p = mc::temp_dir() / "truncated.safetensors";
  {
    // Header intact, data area cut after ~1 MB: the reader must notice before trusting any offset.
    std::ifstream in(ckpt(), std::ios::binary);
    std::vector<char> buf(1 << 20);
    in.read(buf.data(), std::streamsize(buf.size()));
    std::ofstream(p, std::ios::binary).write(buf.data(), in.gcount());
  }
  expect_failure("unet", p, mc::golden_dir() / "unet_io.safetensors", {"truncated.safetensors", "truncated"});
}

TEST_CASE("bad input: checkpoint with a tensor missing names the tensor", "[models][bad_input]") {
  const auto p = mc::temp_dir() / "missing_tensor.safetensors";
  const std::string name = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight";
  rewrite(ckpt(), p, name);
  expect_failure("unet", p, mc::golden_dir() / "unet_io.safetensors", {"missing_tensor.safetensors", name});
}

TEST_CASE("bad input: checkpoint with a wrong-shape tensor names tensor and shapes", "[models][bad_input]") {
  const auto p = mc::temp_dir() / "wrong_shape.safetensors";
  const std::string name = "first_stage_model.decoder.up.1.block.0.conv2.weight";  // [64,64,3,3]
  rewrite(ckpt(), p, "", name, {64, 64, 1, 1});
  expect_failure("vae-decode", p, mc::golden_dir() / "vae_decode_io.safetensors",
                 {"wrong_shape.safetensors", name, "[64, 64, 1, 1]"});
}

TEST_CASE("bad input: a .ckpt (pickle) path says to convert to safetensors", "[models][bad_input]") {
  const auto p = mc::temp_dir() / "model.ckpt";
  mc::fs::copy_file(ckpt(), p, mc::fs::copy_options::overwrite_existing);
  expect_failure("text", p, mc::golden_dir() / "text_io.safetensors", {"model.ckpt", "safetensors"});
}

// Decision: NaN/Inf anywhere in an eval output is an error ("output 'eps' contains NaN/Inf"), and no
// file is written — NaN outputs would only make a later comparison fail less clearly.
TEST_CASE("bad input: NaN in the UNet input finishes with a NaN/Inf error", "[models][bad_input]") {
  auto io = io::SafeTensors::open(mc::golden_dir() / "unet_io.safetensors");
  io::SafeTensorsWriter w;
  for (const auto& t : io.tensors()) {
    if (t.name != "x") {
      w.add(t.name, t.dtype, t.shape, io.bytes(t));
      continue;
    }
    auto x = io.to_f32(t);
    x[5] = std::numeric_limits<float>::quiet_NaN();
    w.add_f32(t.name, t.shape, x);
  }
  const auto p = mc::temp_dir() / "nan_inputs.safetensors";
  w.write(p);
  expect_failure("unet", ckpt(), p, {"eps", "NaN"});
}

TEST_CASE("bad input: out-of-vocabulary token id is refused", "[models][bad_input]") {
  auto io = io::SafeTensors::open(mc::golden_dir() / "text_io.safetensors");
  const auto& info = io.at("input_ids");
  auto ids = io.to_i64(info);
  ids[3] = 60000;
  io::SafeTensorsWriter w;
  w.add_i64("input_ids", info.shape, ids);
  const auto p = mc::temp_dir() / "oov_ids.safetensors";
  w.write(p);
  expect_failure("text", ckpt(), p, {"60000"});
}

TEST_CASE("bad input: 10 000-word prompt tokenizes, SD1 padding keeps 77 ids", "[cpu][models][bad_input]") {
  auto tok = text::ClipTokenizer::from_file(mc::clip_vocab());
  const char* words[] = {"a", "photo", "of", "the", "cat", "astronaut", "riding", "horse", "masterpiece", "quality"};
  std::string prompt;
  for (int i = 0; i < 10000; ++i) prompt += std::string(words[i % 10]) + (i % 7 == 6 ? ", " : " ");
  auto ids = tok.encode(prompt);
  // Every word here is one BPE token, plus one per comma, plus start/end.
  CHECK(ids.size() == 10000 + 10000 / 7 + 2);
  CHECK(ids.front() == 49406);
  CHECK(ids.back() == 49407);
  auto padded = tok.encode_padded(prompt);
  REQUIRE(padded.size() == 77);
  CHECK(padded.back() == 49407);
  CHECK(std::equal(padded.begin(), padded.begin() + 76, ids.begin()));
}

TEST_CASE("bad input: non-UTF-8 prompts are a TokenizerError naming the byte", "[cpu][models][bad_input]") {
  auto tok = text::ClipTokenizer::from_file(mc::clip_vocab());
  // Stray byte, truncated sequence, overlong '/', UTF-16 surrogate encoded in UTF-8.
  for (const std::string& bad : {std::string("cat \xff dog"), std::string("caf\xc3"), std::string("\xc0\xaf"),
                                std::string("x\xed\xa0\x80")}) {
    INFO("prompt bytes: " << bad.size());
    try {
      tok.encode(bad);
      FAIL("no error");
    } catch (const text::TokenizerError& e) {
      CHECK(std::string(e.what()).find("not valid UTF-8 at byte") != std::string::npos);
    }
  }
}
