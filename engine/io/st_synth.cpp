#include "engine/io/st_synth.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vkf::io {

void write_sparse_safetensors(const std::filesystem::path& path, const std::vector<SynthTensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    uint64_t n = dtype_size(t.dtype);
    for (int64_t d : t.shape) n *= uint64_t(d);
    h[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    const uint64_t len = header.size();
    f.write(reinterpret_cast<const char*>(&len), 8);
    f.write(header.data(), std::streamsize(header.size()));
    if (!f) throw std::runtime_error(path.string() + ": cannot write synthetic safetensors header");
  }
  // Extending with resize (ftruncate) leaves a hole that reads as zeros and takes no disk space.
  std::filesystem::resize_file(path, 8 + header.size() + off);
}

}  // namespace vkf::io
