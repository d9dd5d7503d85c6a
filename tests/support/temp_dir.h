// Temporary folders for tests: scoped ones, and one per test process.
#pragma once
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>

namespace vkf::test {

// A fresh folder vkflow_<tag>_<pid>_<n> under the system temp dir, removed (with its contents) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("vkflow_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// One folder per test process and tag (ctest runs each case in its own process), removed at exit.
inline const std::filesystem::path& process_temp_dir(const std::string& tag) {
  static std::map<std::string, std::unique_ptr<TempDir>> dirs;
  auto& d = dirs[tag];
  if (!d) d = std::make_unique<TempDir>(tag);
  return d->path();
}

}  // namespace vkf::test
