// libFuzzer: the names /view and /upload/image resolve (server/safe_path.h: type folder, subfolder,
// filename). Input: a mode byte picking the folder (output: a plain folder; input: reached through a
// symlinked folder; temp: given as a relative path), then "subfolder\xff\xfffilename". Each folder holds
// files, sub-folders and symlinks that point inside it, at it, above it, outside (relative and absolute),
// nowhere, and at themselves. Oracle: besides no crash, a status of 0, 400 or 403, and for every accepted
// name the path, resolved here independently (lstat/readlink, component by component), lies inside the
// resolved folder and holds no NUL; anything else aborts.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/safe_path.h"
#include "tests/fuzz/fuzz_common.h"

namespace {
namespace fs = std::filesystem;

std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= p.size()) {
    size_t slash = p.find('/', at);
    if (slash == std::string::npos) slash = p.size();
    if (slash > at) out.push_back(p.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

// `p` made absolute and resolved without std::filesystem: every existing component lstat'ed, symlinks
// replaced by their targets (at most 40 hops), the missing tail normalised lexically. nullopt on a loop.
std::optional<std::vector<std::string>> resolve(const std::string& p) {
  std::string abs = p;
  if (abs.empty() || abs[0] != '/') {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) std::abort();
    abs = std::string(cwd) + "/" + abs;
  }
  std::deque<std::string> todo;
  for (auto& c : components(abs)) todo.push_back(c);
  std::vector<std::string> done;
  bool missing = false;
  int hops = 0;
  while (!todo.empty()) {
    std::string c = todo.front();
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(c);
    if (missing) continue;
    std::string cur;
    for (auto& d : done) cur += "/" + d;
    struct stat st;
    if (::lstat(cur.c_str(), &st) != 0) {
      missing = true;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++hops > 40) return std::nullopt;
    char buf[4096];
    ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf);
    if (n <= 0) std::abort();
    std::string target(buf, size_t(n));
    done.pop_back();
    if (target[0] == '/') done.clear();
    auto tc = components(target);
    for (auto it = tc.rbegin(); it != tc.rend(); ++it) todo.push_front(*it);
  }
  return done;
}

struct Folders {
  fs::path base[3];  // output, input (through a symlinked folder), temp (relative)
  std::vector<std::string> real[3];
};

// One folder's contents: the same set of links in each.
void populate(const fs::path& dir, const fs::path& outside) {
  fs::create_directories(dir / "sub" / "deeper");
  std::ofstream(dir / "a.png") << "x";
  std::ofstream(dir / "sub" / "b.png") << "x";
  fs::create_directory_symlink("sub", dir / "link_in");
  fs::create_directory_symlink(".", dir / "link_self");
  fs::create_directory_symlink("..", dir / "link_parent");
  fs::create_directory_symlink("../../outside", dir / "sub" / "link_up2");  // dangling: no data/outside
  fs::create_directory_symlink("../../../outside", dir / "sub" / "link_up3");
  fs::create_directory_symlink(fs::relative(outside, dir), dir / "link_out");
  fs::create_directory_symlink(outside, dir / "link_abs");
  fs::create_symlink(outside / "secret.png", dir / "secret.png");
  fs::create_symlink("nowhere/x", dir / "dangling");
  fs::create_symlink("loop", dir / "loop");
  fs::create_symlink("sub/b.png", dir / "file_link.png");
}

const Folders& folders() {
  static const Folders f = [] {
    Folders r;
    const fs::path root = vkf::fuzz::scratch_dir() / "sp";
    const fs::path outside = root / "outside";
    fs::create_directories(outside);
    std::ofstream(outside / "secret.png") << "secret";
    // output: root/data/output; input: root/data/input -> input_real; temp: root/data/temp, relative to cwd
    populate(root / "data" / "output", outside);
    populate(root / "data" / "input_real", outside);
    fs::create_directory_symlink("input_real", root / "data" / "input");
    populate(root / "data" / "temp", outside);
    r.base[0] = root / "data" / "output";
    r.base[1] = root / "data" / "input";
    r.base[2] = fs::relative(root / "data" / "temp", fs::current_path());
    for (int i = 0; i < 3; ++i) {
      auto rr = resolve(r.base[i].string());
      if (!rr) std::abort();
      r.real[i] = *rr;
    }
    return r;
  }();
  return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Folders& f = folders();
  const int which = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t sep = rest.find("\xff\xff");
  std::string_view sub = sep == std::string_view::npos ? std::string_view() : rest.substr(0, sep);
  std::string_view name = sep == std::string_view::npos ? rest : rest.substr(sep + 2);
  const vkf::server::PathCheck pc = vkf::server::resolve_under(f.base[which], sub, name);
  if (pc.status != 0) {
    if ((pc.status != 400 && pc.status != 403) || pc.reason.empty()) std::abort();
    return 0;
  }
  const std::string s = pc.path.string();
  if (s.find('\0') != std::string::npos) std::abort();
  auto got = resolve(s);
  if (!got) std::abort();  // accepted, yet it loops
  const auto& base = f.real[which];
  if (got->size() < base.size()) std::abort();
  for (size_t i = 0; i < base.size(); ++i)
    if ((*got)[i] != base[i]) std::abort();  // accepted, yet outside its folder
  return 0;
}
