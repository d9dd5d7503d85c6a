// libFuzzer: a safetensors file (length prefix, JSON header, tensor table, data) -> open, every tensor's
// bytes and (when small) its float / integer values. Errors must be SafeTensorsError, never a crash.
#include <cstdint>
#include <string_view>

#include "engine/io/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = vkf::fuzz::write_scratch("x.safetensors", {reinterpret_cast<const char*>(data), size});
  try {
    auto st = vkf::io::SafeTensors::open(file);
    for (const auto& t : st.tensors()) {
      (void)st.find(t.name);
      (void)st.bytes(t);
      (void)vkf::io::shape_str(t.shape);
      if (t.nbytes() > (1u << 16)) continue;  // values of big tensors add nothing but time
      try {
        (void)st.to_f32(t);
        (void)st.to_i64(t);
      } catch (const vkf::io::SafeTensorsError&) {
      }
    }
    (void)st.metadata().dump();
  } catch (const vkf::io::SafeTensorsError&) {
  }
  return 0;
}
