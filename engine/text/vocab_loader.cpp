#include "engine/text/vocab_loader.h"

#include <zlib.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/io/json_limits.h"
#include "engine/text/unicode.h"

namespace vkf::text {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw TokenizerError("CLIP vocabulary '" + file.string() + "': " + what);
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(file, "read error");
  return ss.str();
}

std::string read_gzip(const fs::path& file) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(file.c_str(), "rb"), gzclose);
  if (!gz) fail(file, "cannot open file");
  std::string out;
  std::array<char, 1 << 16> buf;
  for (;;) {
    const int n = gzread(gz.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(gz.get(), &err);
      fail(file, std::string("corrupt gzip data (") + msg + ")");
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  // zlib reads a non-gzip file verbatim and reports a truncated stream only through gzerror.
  if (gzdirect(gz.get())) fail(file, "not a gzip file");
  int err = 0;
  const char* msg = gzerror(gz.get(), &err);
  if (err != Z_OK) fail(file, std::string("truncated or corrupt gzip data (") + msg + ")");
  return out;
}

// merges.split('\n')[1 : 1 + kClipMergeCount], each line "a b". The first line is a version header in
// both openai's file and HF merges.txt; a file without one keeps its first line.
MergeList parse_merges(const std::string& text, const fs::path& file) {
  MergeList merges;
  std::size_t pos = 0, line_no = 0;
  while (pos <= text.size() && merges.size() < kClipMergeCount) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line_no == 1 && line.find("#version") != std::string_view::npos) continue;
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.empty()) {
      if (pos >= text.size()) break;  // trailing newline
      fail(file, "empty line " + std::to_string(line_no) + " inside the merges list");
    }
    if (fields.size() != 2) {
      fail(file, "line " + std::to_string(line_no) + " is not a merge \"a b\": '" + std::string(line) + "'");
    }
    merges.emplace_back(std::string(fields[0]), std::string(fields[1]));
  }
  if (merges.empty()) fail(file, "no merges found");
  return merges;
}

Vocab parse_vocab_json(const fs::path& file) {
  nlohmann::json j;
  try {
    j = io::parse_json_checked(read_text(file), "vocabulary");
  } catch (const io::JsonError& e) {
    fail(file, e.what());
  }
  if (!j.is_object()) fail(file, "expected a JSON object {token: id}");
  Vocab vocab;
  vocab.reserve(j.size());
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      fail(file, "token '" + token + "' has no valid integer id");
    }
    vocab[token] = static_cast<int32_t>(id.get<int64_t>());
  }
  return vocab;
}

VocabData load_hf_pair(const fs::path& vocab_json, const fs::path& merges_txt) {
  VocabData d;
  d.vocab = parse_vocab_json(vocab_json);
  d.merges = parse_merges(read_text(merges_txt), merges_txt);
  return d;
}

// "<stem>.vocab.json" <-> "<stem>.merges.txt", else the plain name in the same directory.
std::optional<fs::path> partner(const fs::path& file, std::string_view from, std::string_view to) {
  const std::string name = file.filename().string();
  if (ends_with(name, std::string(".") + std::string(from))) {
    fs::path p = file.parent_path() / (name.substr(0, name.size() - from.size()) + std::string(to));
    if (fs::is_regular_file(p)) return p;
  }
  fs::path p = file.parent_path() / std::string(to);
  if (fs::is_regular_file(p)) return p;
  return std::nullopt;
}

constexpr std::array<const char*, 4> kDirectoryFiles = {"bpe_simple_vocab_16e6.txt.gz", "vocab.json", "merges.txt",
                                                        "bpe_simple_vocab_16e6.txt"};

}  // namespace

std::optional<fs::path> vocab_file_in_directory(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : kDirectoryFiles) {
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  }
  return std::nullopt;
}

VocabData load_clip_vocab(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    auto file = vocab_file_in_directory(path);
    if (!file) {
      std::string names;
      for (const char* n : kDirectoryFiles) names += std::string(names.empty() ? "" : ", ") + n;
      fail(path, "directory holds none of " + names);
    }
    return load_clip_vocab(*file);
  }
  if (!fs::is_regular_file(path, ec)) fail(path, "no such file");
  const std::string name = path.filename().string();
  if (ends_with(name, ".json")) {
    auto merges = partner(path, "vocab.json", "merges.txt");
    if (!merges) fail(path, "no merges.txt next to this vocab.json");
    return load_hf_pair(path, *merges);
  }
  if (ends_with(name, "merges.txt")) {
    if (auto vocab = partner(path, "merges.txt", "vocab.json")) return load_hf_pair(*vocab, path);
  }
  VocabData d;
  d.merges = parse_merges(ends_with(name, ".gz") ? read_gzip(path) : read_text(path), path);
  d.vocab = standard_clip_vocab(d.merges);
  return d;
}

}  // namespace vkf::text
