// Helpers for the end-to-end tests: run the built `vkflow` binary (VKFLOW_BINARY) in a child process with
// captured output, temp folders, and a models folder holding the tiny golden checkpoint under a name.
#pragma once
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace vkf::e2e {

namespace fs = std::filesystem;

inline const fs::path kShared = VKFLOW_SHARED_DIR;
inline const fs::path kGraphs = fs::path(VKFLOW_SOURCE_DIR) / "graphs";
inline const fs::path kClipVocab = kShared / "clip" / "bpe_simple_vocab_16e6.txt.gz";
inline const fs::path kTinyDir = kShared / "golden" / "sd1_tiny_a";

// A fresh folder under the system temp dir, removed (with its contents) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path_ = fs::temp_directory_path() / ("vkflow_e2e_" + std::to_string(::getpid()) + "_" + tag + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& s) const { return path_ / s; }

 private:
  fs::path path_;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Every regular file below `dir` (none when it does not exist).
inline std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  return out;
}

struct RunOutput {
  int code = -1;        // exit status when the process exited
  int signal = 0;       // the signal that ended it, 0 when it exited
  std::string out, err;
  bool crashed() const { return signal != 0; }
};

// Runs VKFLOW_BINARY with `args` (no shell: arguments pass verbatim, invalid UTF-8 included), stdin from
// /dev/null, stdout/stderr captured. VKFLOW_CLIP_VOCAB points at the shared CLIP vocabulary.
inline RunOutput vkflow(const std::vector<std::string>& args) {
  TempDir io("io");
  const fs::path out = io / "stdout", err = io / "stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("VKFLOW_CLIP_VOCAB=", 0) != 0) env_s.emplace_back(*e);
  env_s.push_back("VKFLOW_CLIP_VOCAB=" + kClipVocab.string());
  std::vector<std::string> argv_s = {VKFLOW_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error(std::string("cannot start ") + VKFLOW_BINARY);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunOutput r;
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// <dir>/checkpoints/tiny.safetensors (a symlink to the golden sd1_tiny_a checkpoint) plus its config as the
// sidecar tiny.json, and <dir>/clip_vocab/ with the CLIP vocabulary (for in-process runs without the env).
class ModelsDir : public TempDir {
 public:
  ModelsDir() : TempDir("models") {
    fs::create_directories(path() / "checkpoints");
    fs::create_symlink(kTinyDir / "ckpt.safetensors", path() / "checkpoints" / "tiny.safetensors");
    fs::copy_file(kTinyDir / "config.json", path() / "checkpoints" / "tiny.json");
    fs::create_directories(path() / "clip_vocab");
    fs::create_symlink(kClipVocab, path() / "clip_vocab" / kClipVocab.filename());
  }
};

inline nlohmann::json load_json(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }

// The text of the PNG tEXt chunk `key`, or "" when absent.
inline std::string png_text(const std::string& png, const std::string& key) {
  size_t pos = 8;  // after the signature
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
           (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
  };
  while (pos + 8 <= png.size()) {
    const size_t len = be32(pos);
    const std::string type = png.substr(pos + 4, 4);
    if (pos + 12 + len > png.size()) break;
    if (type == "tEXt") {
      std::string data = png.substr(pos + 8, len);
      size_t nul = data.find('\0');
      if (nul != std::string::npos && data.substr(0, nul) == key) return data.substr(nul + 1);
    }
    if (type == "IEND") break;
    pos += 12 + len;
  }
  return "";
}

inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace vkf::e2e
