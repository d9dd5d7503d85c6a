#include "engine/io/safe_path.h"

#include <cstdio>

namespace vkf::io {

namespace fs = std::filesystem;

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > 4096) return "the name is longer than 4096 bytes";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "the name contains a control character (byte 0x%02X)", c);
      return std::string(buf);
    }
  return std::nullopt;
}

bool is_within(const fs::path& root, const fs::path& p) {
  std::error_code ec1, ec2;
  fs::path r = fs::weakly_canonical(fs::absolute(root), ec1), q = fs::weakly_canonical(fs::absolute(p), ec2);
  if (ec1 || ec2) return false;
  auto qi = q.begin();
  for (const auto& part : r) {
    if (part.empty()) continue;  // trailing separator of the root
    while (qi != q.end() && qi->empty()) ++qi;
    if (qi == q.end() || part != *qi) return false;
    ++qi;
  }
  return true;
}

std::optional<std::string> path_problem(const fs::path& root, std::string_view name, PathAccess access,
                                        bool allow_absolute) {
  if (auto p = name_problem(name)) return p;
  fs::path p{std::string(name)};
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) {
    if (access == PathAccess::Read && allow_absolute) return std::nullopt;
    return "an absolute path is not allowed";
  }
  for (auto& part : p)
    if (part == "..") return "'..' is not allowed in a name";
  if (access == PathAccess::Write && !is_within(root, root / p))
    return "the name resolves (through a symlink) outside the folder";
  return std::nullopt;
}

fs::path resolve_inside(const fs::path& root, std::string_view name, PathAccess access, bool allow_absolute) {
  if (auto why = path_problem(root, name, access, allow_absolute)) {
    std::string shown;
    for (unsigned char c : name.substr(0, 200)) shown += c < 0x20 || c == 0x7f ? '?' : char(c);
    throw UnsafePathError("'" + shown + "' is outside the folder " + root.string() + ": " + *why);
  }
  fs::path p{std::string(name)};
  return p.is_absolute() ? p : root / p;
}

}  // namespace vkf::io
