// One path policy for every name a graph or request gives (image names, sub-folders, model names,
// filename prefixes, temp/preview files): a name is resolved below the folder it belongs to and may
// never leave it. Used by validation (so a bad name is refused before anything runs), by the nodes
// that open or write files (defence in depth), and by the server.
//
// Rules: no empty name, no control character (bytes 0x00-0x1F, 0x7F: a NUL would silently cut the
// name), no ".." component, no absolute path (reads may allow one: the CLI user names a file on
// purpose), and for writes the target, with every symlink resolved, must lie inside the resolved
// folder. For reads, symlinks the folder's owner placed inside it (e.g. a linked model folder) are
// followed: a graph cannot create them, and without ".." it cannot climb out of them.
#pragma once
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vkf::io {

struct UnsafePathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class PathAccess { Read, Write };

// Why `name` cannot be used as a file or folder name, or nullopt: empty, too long, control characters.
std::optional<std::string> name_problem(std::string_view name);

// `name` as it may be shown in a message: its first 200 bytes, control characters as '?' (a name with
// ESC or NUL must not reach a terminal or a log raw).
std::string printable_name(std::string_view name);

// Why `name` cannot be resolved below `root` under the rules above, or nullopt when it can.
std::optional<std::string> path_problem(const std::filesystem::path& root, std::string_view name, PathAccess access,
                                        bool allow_absolute = false);

// root/name after path_problem() found nothing (or `name` itself when absolute and allowed); throws
// UnsafePathError naming the name, the folder and the reason.
std::filesystem::path resolve_inside(const std::filesystem::path& root, std::string_view name, PathAccess access,
                                     bool allow_absolute = false);

// True when `p`, with symlinks resolved (missing tail components kept), lies inside resolved `root`.
bool is_within(const std::filesystem::path& root, const std::filesystem::path& p);

}  // namespace vkf::io
