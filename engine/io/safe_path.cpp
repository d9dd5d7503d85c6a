#include "engine/io/safe_path.h"

#include <cstdio>
#include <deque>
#include <vector>

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

namespace {
// `p` (absolute) with every symlink replaced by its target, dangling ones included (weakly_canonical keeps
// a dangling link as a lexical name, so a link to a missing path outside looked inside), and the missing
// tail normalised lexically; nullopt after 40 links (a loop) or an unreadable link.
std::optional<fs::path> resolve_links(const fs::path& p) {
  const fs::path start = p.relative_path();
  std::deque<fs::path> todo(start.begin(), start.end());
  fs::path done = p.root_path();
  bool missing = false;
  int links = 0;
  while (!todo.empty()) {
    fs::path c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      done = done.parent_path();
      continue;
    }
    done /= c;
    if (missing) continue;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(done, ec);
    if (ec || !fs::exists(st)) {
      missing = true;
      continue;
    }
    if (!fs::is_symlink(st)) continue;
    if (++links > 40) return std::nullopt;
    fs::path target = fs::read_symlink(done, ec);
    if (ec) return std::nullopt;
    done = target.is_absolute() ? target.root_path() : done.parent_path();
    const fs::path rel = target.relative_path();
    std::vector<fs::path> parts(rel.begin(), rel.end());
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(*it);
  }
  return done;
}
}  // namespace

std::string printable_name(std::string_view name) {
  std::string shown;
  for (unsigned char c : name.substr(0, 200)) shown += c < 0x20 || c == 0x7f ? '?' : char(c);
  if (name.size() > 200) shown += "...";
  return shown;
}

bool is_within(const fs::path& root, const fs::path& p) {
  std::error_code ec1, ec2;
  const fs::path ra = fs::absolute(root, ec1), pa = fs::absolute(p, ec2);
  if (ec1 || ec2) return false;
  const auto r = resolve_links(ra), q = resolve_links(pa);
  if (!r || !q) return false;
  auto qi = q->begin();
  for (const auto& part : *r) {
    if (part.empty()) continue;  // trailing separator of the root
    while (qi != q->end() && qi->empty()) ++qi;
    if (qi == q->end() || part != *qi) return false;
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
    throw UnsafePathError("'" + printable_name(name) + "' is outside the folder " + root.string() + ": " + *why);
  }
  fs::path p{std::string(name)};
  return p.is_absolute() ? p : root / p;
}

}  // namespace vkf::io
