// libFuzzer: an image file as LoadImage reads it (stb_image: PNG, JPEG, BMP, GIF, ...; pixel limit checked
// from the header) and the PNG text chunks a graph PNG carries. Errors must be runtime_error, never a crash.
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "engine/io/png.h"
#include "engine/io/png_text.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = vkf::fuzz::write_scratch("x.img", {reinterpret_cast<const char*>(data), size});
  try {
    auto img = vkf::io::load_image(file, uint64_t(1) << 20);  // small cap: the decoder, not memory, is under test
    if (img.rgba.size() != static_cast<size_t>(img.width) * img.height * 4) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  try {
    (void)vkf::io::read_png_text(file);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
