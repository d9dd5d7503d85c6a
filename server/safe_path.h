// Names that HTTP requests send (/view, /upload/image) resolved below their folder. The path policy itself
// is engine/io/safe_path's (the one policy); this adds what only HTTP needs: the status code (400
// malformed, 403 leaves its folder), names still percent-encoded after decoding (double encoding) and
// backslashes refused, and symlinks resolved for reads too (a request must not read through a link out).
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace vkf::server {

struct PathCheck {
  int status = 0;  // 0 ok, else 400 (malformed) or 403 (escapes the folder)
  std::string reason;
  std::filesystem::path path;  // the resolved path when ok
};

// base/subfolder/filename, checked as above. The file itself need not exist.
PathCheck resolve_under(const std::filesystem::path& base, std::string_view subfolder, std::string_view filename);

}  // namespace vkf::server
