#pragma once
// Safetensors writer. Output goes to "<path>.tmp" and is renamed into place, so a crash or a full
// disk never leaves a partial file under the real name.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"

namespace vkf::io {

class SafeTensorsWriter {
 public:
  // Copies the bytes; their size must equal numel(shape) * dtype_size(dtype).
  // Throws std::invalid_argument on a size mismatch, a negative dim, or a duplicate/reserved name.
  void add(std::string name, StDType dtype, std::vector<int64_t> shape, std::span<const std::byte> data);
  void add_f32(std::string name, std::vector<int64_t> shape, std::span<const float> data);
  void add_f16(std::string name, std::vector<int64_t> shape, std::span<const uint16_t> data);
  void add_i64(std::string name, std::vector<int64_t> shape, std::span<const int64_t> data);
  // Zero-filled tensor (for synthetic checkpoints).
  void add_zeros(std::string name, StDType dtype, std::vector<int64_t> shape);
  void set_metadata(std::string key, std::string value);

  // Header JSON (without the 8-byte length, before padding) as it will be written.
  std::string header_json() const;
  // Writes the file: header padded with spaces to a multiple of 8 bytes (like the Python library),
  // tensors in insertion order. Throws std::runtime_error naming the file on I/O failure.
  void write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
    std::vector<std::byte> data;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace vkf::io
