// Safetensors reader/writer and half conversions, checked against the golden checkpoints.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/io/half.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_writer.h"
#include "tests/io/st_builder.h"

using namespace vkf;
using io::SafeTensors;
using io::StDType;

namespace {
// Expects open() to fail with a message that names the file and contains `what`.
void require_open_error(const std::filesystem::path& p, const std::string& what) {
  try {
    (void)SafeTensors::open(p);
    FAIL("no error for " << p.filename() << " (expected '" << what << "')");
  } catch (const io::SafeTensorsError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(p.filename().string()) != std::string::npos);
    CHECK(msg.find(what) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("safetensors: golden sd1_tiny_a fp32 and fp16 checkpoints", "[cpu][io]") {
  const auto f32 = SafeTensors::open(test::golden("sd1_tiny_a/ckpt.safetensors"));
  const auto f16 = SafeTensors::open(test::golden("sd1_tiny_a/ckpt_fp16.safetensors"));
  REQUIRE(f32.tensors().size() == 497);  // MODELS.md: 497 tensors
  REQUIRE(f16.tensors().size() == 497);
  CHECK(f32.metadata().value("golden_config", "") == "sd1_tiny_a");

  // Shapes follow config.json (model_channels 32, in_channels 4, context 64, text width 64).
  const auto& conv0 = f32.at("model.diffusion_model.input_blocks.0.0.weight");
  CHECK(conv0.dtype == StDType::F32);
  CHECK(conv0.shape == std::vector<int64_t>{32, 4, 3, 3});
  const auto& tok = f16.at("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight");
  CHECK(tok.dtype == StDType::F16);
  CHECK(tok.shape == std::vector<int64_t>{49408, 64});
  const auto& pid = f16.at("cond_stage_model.transformer.text_model.embeddings.position_ids");
  CHECK(pid.dtype == StDType::I64);  // MODELS.md: position_ids stays I64 in the fp16 file
  const auto ids = f16.to_i64(pid);
  REQUIRE(ids.size() == 77);
  for (int i = 0; i < 77; ++i) CHECK(ids[size_t(i)] == i);  // = arange(77)
  CHECK(f32.find("no.such.tensor") == nullptr);
  CHECK_THROWS_WITH(f32.at("no.such.tensor"), Catch::Contains("ckpt.safetensors") && Catch::Contains("no.such.tensor"));
  CHECK_THROWS_AS(f32.to_i64(conv0), io::SafeTensorsError);

  // Every tensor of the fp16 file is torch's round-to-nearest-even cast of the fp32 one: our
  // float_to_half must reproduce its bits exactly, and f16 -> f32 must agree within half an fp16 ulp.
  size_t n_checked = 0, bit_mismatch = 0;
  double worst_rel = 0;
  for (const auto& t : f32.tensors()) {
    const auto* h = f16.find(t.name);
    REQUIRE(h != nullptr);
    REQUIRE(h->shape == t.shape);
    if (t.dtype != StDType::F32) continue;
    REQUIRE(h->dtype == StDType::F16);
    const auto a = f32.to_f32(t);
    const auto b = f16.to_f32(*h);
    const auto raw = f16.bytes(*h);
    for (size_t i = 0; i < a.size(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, raw.data() + 2 * i, 2);
      bit_mismatch += io::float_to_half(a[i]) != bits;
      if (std::fabs(a[i]) >= 6.103515625e-05f)  // fp16 normal range: relative error <= 2^-11
        worst_rel = std::max(worst_rel, std::fabs(double(a[i]) - b[i]) / std::fabs(double(a[i])));
      else  // subnormal: absolute error <= half the subnormal step 2^-25
        CHECK(std::fabs(double(a[i]) - b[i]) <= std::ldexp(1.0, -25));
    }
    n_checked += a.size();
  }
  INFO("elements " << n_checked << ", worst relative f16 error " << worst_rel);
  CHECK(n_checked > 5'000'000);
  CHECK(bit_mismatch == 0);
  CHECK(worst_rel <= std::ldexp(1.0, -11));
}

TEST_CASE("half: IEEE binary16 / bfloat16 conversions", "[cpu][io]") {
  // Decoding every binary16 pattern against the format's definition (sign, 5-bit exp, 10-bit mant).
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const int e = int((h >> 10) & 31), m = int(h & 1023);
    const double s = (h & 0x8000) ? -1.0 : 1.0;
    const float f = io::half_to_float(uint16_t(h));
    if (e == 31) {
      CHECK((m == 0 ? std::isinf(f) : std::isnan(f)));
      if (m) CHECK(std::isnan(io::half_to_float(io::float_to_half(f))));
      continue;
    }
    const double expect = e == 0 ? s * std::ldexp(m, -24) : s * std::ldexp(1024 + m, e - 25);
    REQUIRE(double(f) == expect);
    REQUIRE(io::float_to_half(f) == h);  // exact values round-trip bit for bit (incl. -0, subnormals)
  }
  // Rounding: ties to even, overflow threshold 65520, underflow threshold 2^-25.
  CHECK(io::float_to_half(1.0f + std::ldexp(1.f, -11)) == 0x3c00);      // tie -> even (1.0)
  CHECK(io::float_to_half(1.0f + 3 * std::ldexp(1.f, -11)) == 0x3c02);  // tie -> even (up)
  CHECK(io::float_to_half(65504.f) == 0x7bff);
  CHECK(io::float_to_half(65519.99f) == 0x7bff);
  CHECK(io::float_to_half(65520.f) == 0x7c00);
  CHECK(io::float_to_half(-1e10f) == 0xfc00);
  CHECK(io::float_to_half(std::ldexp(1.f, -25)) == 0x0000);                        // tie -> 0
  CHECK(io::float_to_half(std::nextafter(std::ldexp(1.f, -25), 1.f)) == 0x0001);  // just above
  CHECK(io::float_to_half(3 * std::ldexp(1.f, -25)) == 0x0002);                    // 1.5 ulp -> 2
  CHECK(io::float_to_half(std::ldexp(1023.5f, -24)) == 0x0400);  // largest subnormal rounds up to normal
  CHECK((io::float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7c00);
  // bfloat16: upper 16 bits, RNE.
  CHECK(io::float_to_bf16(1.0f) == 0x3f80);
  CHECK(io::bf16_to_float(0x3f80) == 1.0f);
  CHECK(io::float_to_bf16(1.0f + std::ldexp(1.f, -8)) == 0x3f80);      // tie -> even
  CHECK(io::float_to_bf16(1.0f + 3 * std::ldexp(1.f, -8)) == 0x3f82);  // tie -> even (up)
  CHECK(std::isnan(io::bf16_to_float(io::float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isinf(io::bf16_to_float(io::float_to_bf16(std::numeric_limits<float>::infinity()))));
}

TEST_CASE("safetensors: writer round trip", "[cpu][io]") {
  test::TempDir dir;
  const std::vector<float> a{1.5f, -2.f, 3.25f, 0.f, 1e-3f, 7.f};
  const std::vector<int64_t> ids{1, -2, 3};
  const std::vector<uint16_t> h{io::float_to_half(0.5f), io::float_to_half(-3.f)};
  io::SafeTensorsWriter w;
  w.add_f32("a.weight", {2, 3}, a);
  w.add_i64("ids", {3}, ids);
  w.add_f16("h", {2}, h);
  w.add_zeros("empty", StDType::BF16, {0, 4});
  w.add("flags", StDType::BOOL, {2}, std::as_bytes(std::span<const uint8_t>(std::vector<uint8_t>{1, 0})));
  w.set_metadata("format", "pt");
  CHECK_THROWS_AS(w.add_f32("a.weight", {6}, a), std::invalid_argument);  // duplicate
  CHECK_THROWS_AS(w.add_f32("bad", {7}, a), std::invalid_argument);       // size mismatch
  const auto p = dir / "rt.safetensors";
  w.write(p);
  CHECK_FALSE(std::filesystem::exists(dir / "rt.safetensors.tmp"));

  // Header padded with spaces to 8 bytes, like the Python library.
  std::ifstream f(p, std::ios::binary);
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  CHECK(n % 8 == 0);

  const auto st = SafeTensors::open(p);
  CHECK(st.tensors().size() == 5);
  CHECK(st.metadata()["format"] == "pt");
  CHECK(st.to_f32(st.at("a.weight")) == a);
  CHECK(st.at("a.weight").shape == std::vector<int64_t>{2, 3});
  CHECK(st.to_i64(st.at("ids")) == ids);
  CHECK(st.to_f32(st.at("ids")) == std::vector<float>{1.f, -2.f, 3.f});
  CHECK(st.to_f32(st.at("h")) == std::vector<float>{0.5f, -3.f});
  CHECK(st.at("empty").numel() == 0);
  CHECK(st.to_i64(st.at("flags")) == std::vector<int64_t>{1, 0});
}

TEST_CASE("safetensors: corrupt files are rejected with the file named", "[cpu][io]") {
  test::TempDir dir;
  const std::string ok_entry = R"("t": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]})";

  test::write_raw(dir / "tiny.safetensors", "", 0, -1);
  std::filesystem::resize_file(dir / "tiny.safetensors", 5);
  require_open_error(dir / "tiny.safetensors", "too small");

  test::write_raw(dir / "hdr_len.safetensors", "{" + ok_entry + "}", 16, 4096);
  require_open_error(dir / "hdr_len.safetensors", "exceeds the file size");

  test::write_raw(dir / "hdr_cap.safetensors", "{" + ok_entry + "}", 16, int64_t(1) << 40);
  require_open_error(dir / "hdr_cap.safetensors", "limit");

  test::write_raw(dir / "truncated.safetensors", "{" + ok_entry + "}", 10);
  require_open_error(dir / "truncated.safetensors", "tensor 't': data_offsets [0, 16] exceed the data area (10 bytes");

  test::write_raw(dir / "badjson.safetensors", "{\"t\": {\"dtype\": \"F32\", ", 16);
  require_open_error(dir / "badjson.safetensors", "not valid JSON");

  test::write_raw(dir / "array.safetensors", "[1, 2, 3]", 0);
  require_open_error(dir / "array.safetensors", "not an object");

  test::write_raw(dir / "dtype.safetensors", R"({"t": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}})", 1);
  require_open_error(dir / "dtype.safetensors", "tensor 't': unknown dtype 'Q4'");

  test::write_raw(dir / "overlap.safetensors",
                  R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                      "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", 24);
  require_open_error(dir / "overlap.safetensors", "overlap");

  test::write_raw(dir / "size.safetensors", R"({"t": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}})", 24);
  require_open_error(dir / "size.safetensors", "F32 [2, 3] needs 24");

  test::write_raw(dir / "outside.safetensors", R"({"t": {"dtype": "F16", "shape": [4], "data_offsets": [100, 108]}})", 16);
  require_open_error(dir / "outside.safetensors", "exceed the data area");

  test::write_raw(dir / "negdim.safetensors", R"({"t": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}})", 16);
  require_open_error(dir / "negdim.safetensors", "negative");

  test::write_raw(dir / "overflow.safetensors",
                  R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}})", 16);
  require_open_error(dir / "overflow.safetensors", "overflows");

  test::write_raw(dir / "reversed.safetensors", R"({"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", 16);
  require_open_error(dir / "reversed.safetensors", "end before begin");

  test::write_raw(dir / "negoff.safetensors", R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 16);
  require_open_error(dir / "negoff.safetensors", "data_offsets");

  test::write_raw(dir / "nodtype.safetensors", R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", 4);
  require_open_error(dir / "nodtype.safetensors", "'dtype'");

  test::write_raw(dir / "meta.safetensors", R"({"__metadata__": [1]})", 0);
  require_open_error(dir / "meta.safetensors", "__metadata__");

  require_open_error(dir / "missing.safetensors", "cannot open");
}

TEST_CASE("safetensors: pickle checkpoints are refused", "[cpu][io]") {
  test::TempDir dir;
  const std::string msg = "pickle checkpoints are not loaded (unsafe); convert it to .safetensors";
  for (const char* name : {"model.ckpt", "model.pt", "model.PTH", "pytorch_model.bin"}) {
    std::ofstream(dir / name) << "whatever";
    require_open_error(dir / name, msg);
  }
  // By content, whatever the name: a torch zip archive and a legacy pickle stream.
  std::ofstream(dir / "zip.safetensors", std::ios::binary) << std::string("PK\x03\x04\x00\x00\x08\x00archive/data.pkl", 24);
  require_open_error(dir / "zip.safetensors", msg);
  std::ofstream(dir / "pkl.safetensors", std::ios::binary) << std::string("\x80\x02\x8a\x0a" "l\xfc\x9c" "F\xf9 j\xa8" "P\x19.", 16);
  require_open_error(dir / "pkl.safetensors", msg);
}
