#pragma once
// Synthetic safetensors files for tests and tools: a real header with a zero data area that is
// made sparse (resize, not write), so a full-size SD1.5 layout costs only its ~200 KB header on disk.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"

namespace vkf::io {

struct SynthTensor {
  std::string name;
  std::vector<int64_t> shape;
  StDType dtype = StDType::F32;
};

// Writes tensors back to back in the given order (header padded to 8 bytes like the Python
// library). Throws std::runtime_error naming the file on I/O failure.
void write_sparse_safetensors(const std::filesystem::path& path, const std::vector<SynthTensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace vkf::io
