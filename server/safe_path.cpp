#include "server/safe_path.h"

#include <cctype>

namespace vkf::server {
namespace fs = std::filesystem;

namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool set(std::string* why, const char* w) {
  if (why) *why = w;
  return false;
}

// True when `p` is `base` or below it (both canonical).
bool inside(const fs::path& base, const fs::path& p) {
  auto b = base.begin(), e = base.end();
  auto q = p.begin();
  for (; b != e; ++b, ++q) {
    if (q == p.end() || *q != *b) return false;
  }
  return true;
}
}  // namespace

bool plain_relative_name(std::string_view s, bool allow_empty, std::string* why) {
  if (s.empty()) return allow_empty || set(why, "empty name");
  if (s.size() > 1024) return set(why, "name too long");
  if (s.front() == '/') return set(why, "absolute path");
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return set(why, "control or NUL byte in name");
    if (c == '\\') return set(why, "backslash in name");
    if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0)
      return set(why, "percent-encoded sequence in name");
  }
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view comp = s.substr(start, end - start);
    if (comp == "..") return set(why, "'..' in name");
    if (comp.empty() && end != s.size()) return set(why, "empty path component");
    start = end + 1;
  }
  return true;
}

PathCheck resolve_under(const fs::path& base, std::string_view subfolder, std::string_view filename) {
  PathCheck r;
  std::string why;
  if (!plain_relative_name(subfolder, true, &why) || !plain_relative_name(filename, false, &why)) {
    r.status = 400;
    r.reason = why;
    return r;
  }
  std::error_code ec;
  fs::create_directories(base, ec);
  fs::path cbase = fs::weakly_canonical(fs::absolute(base, ec), ec);
  fs::path full = cbase / fs::path(std::string(subfolder)) / fs::path(std::string(filename));
  fs::path real = fs::weakly_canonical(full, ec);
  if (ec || !inside(cbase, real) || real == cbase) {
    r.status = 403;
    r.reason = "path leaves its folder";
    return r;
  }
  r.path = real;
  return r;
}

}  // namespace vkf::server
