#include "server/safe_path.h"

#include "engine/io/safe_path.h"

namespace vkf::server {
namespace fs = std::filesystem;

namespace {
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// HTTP-only refusals: a backslash (a Windows separator some clients send) and a `%XX` left after decoding.
const char* http_problem(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') return "backslash in name";
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) return "percent-encoded sequence in name";
  }
  return nullptr;
}
}  // namespace

PathCheck resolve_under(const fs::path& base, std::string_view subfolder, std::string_view filename) {
  PathCheck r;
  auto fail = [&](int st, std::string why) {
    r.status = st;
    r.reason = std::move(why);
    return r;
  };
  if (filename.find('/') != std::string_view::npos) return fail(400, "'/' in filename");
  for (auto s : {subfolder, filename})
    if (const char* why = http_problem(s)) return fail(400, why);
  std::string name = subfolder.empty() ? std::string(filename) : std::string(subfolder) + "/" + std::string(filename);
  if (auto why = io::path_problem(base, name, io::PathAccess::Read)) return fail(400, *why);
  fs::path full = base / name;
  if (!io::is_within(base, full)) return fail(403, "path leaves its folder");
  r.path = full;
  return r;
}

}  // namespace vkf::server
