#include "engine/io/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace vkf::io {

namespace {
std::runtime_error sys_error(const std::filesystem::path& p, const char* what) {
  return std::runtime_error(p.string() + ": " + what + ": " + std::strerror(errno));
}
}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw sys_error(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto err = sys_error(path, "cannot stat");
    ::close(fd);
    throw err;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path.string() + ": not a regular file");
  }
  MappedFile f;
  f.size_ = size_t(st.st_size);
  if (f.size_ > 0) {
    void* a = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (a == MAP_FAILED) {
      auto err = sys_error(path, "cannot mmap");
      ::close(fd);
      throw err;
    }
    f.addr_ = a;
  }
  ::close(fd);  // the mapping stays valid after close
  return f;
}

MappedFile::~MappedFile() { reset(); }

MappedFile::MappedFile(MappedFile&& o) noexcept
    : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void MappedFile::reset() noexcept {
  if (addr_) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

}  // namespace vkf::io
