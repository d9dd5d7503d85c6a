#pragma once
// Read-only memory mapping of a whole file (RAII, move-only). Weights are read straight from the
// page cache instead of being copied into a heap buffer first.
#include <cstddef>
#include <filesystem>
#include <span>

namespace vkf::io {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws std::runtime_error naming the file when it cannot be opened or mapped.
  static MappedFile open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(addr_), size_}; }
  size_t size() const { return size_; }

 private:
  void reset() noexcept;
  void* addr_ = nullptr;  // owned mapping (nullptr for an empty file)
  size_t size_ = 0;
};

}  // namespace vkf::io
