// Strict checks for file names that requests send (/view, /upload/image): a name resolves only below its
// base folder. Refused: empty names, NUL or control bytes, backslashes, absolute paths, ".." components,
// still-percent-encoded sequences (double encoding), and anything whose real path (symlinks resolved)
// leaves the base folder.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace vkf::server {

struct PathCheck {
  int status = 0;           // 0 ok, else 400 (malformed) or 403 (escapes the folder)
  std::string reason;
  std::filesystem::path path;  // the resolved path when ok
};

// True for a relative name made of plain components ("a/b.png"); `allow_empty` for an empty subfolder.
bool plain_relative_name(std::string_view s, bool allow_empty, std::string* why = nullptr);

// base/subfolder/filename, checked as above. The file itself need not exist.
PathCheck resolve_under(const std::filesystem::path& base, std::string_view subfolder, std::string_view filename);

}  // namespace vkf::server
