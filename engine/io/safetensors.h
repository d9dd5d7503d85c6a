#pragma once
// Safetensors reader: memory-mapped, header validated before anything in it is trusted.
// Layout: u64 LE header length N, N bytes of JSON
//   {"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data area; offsets are relative to the start of the data area.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/io/mapped_file.h"

namespace vkf::io {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// Size of one element in bytes.
size_t dtype_size(StDType t);
// Name as written in headers ("F32", "BF16", ...).
const char* dtype_name(StDType t);
// Parses a header dtype name; nullopt for unknown names.
std::optional<StDType> parse_dtype(std::string_view s);

struct StTensorInfo {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data area

  uint64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

// Shape as "[a, b, c]" for error messages.
std::string shape_str(std::span<const int64_t> shape);

// Every error about a file's content; the message starts with the file name.
struct SafeTensorsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class SafeTensors {
 public:
  // Largest header we accept: real SD checkpoints have ~200 KB headers; the cap stops a corrupt
  // length from making us parse (or allocate for) gigabytes of "JSON".
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  // Maps and validates the file. Refuses pickle checkpoints (.ckpt/.pt/.pth/.bin, zip/pickle magic).
  static SafeTensors open(const std::filesystem::path& path);

  SafeTensors(SafeTensors&&) noexcept = default;
  SafeTensors& operator=(SafeTensors&&) noexcept = default;
  SafeTensors(const SafeTensors&) = delete;
  SafeTensors& operator=(const SafeTensors&) = delete;

  // Tensors in file (data offset) order.
  const std::vector<StTensorInfo>& tensors() const { return tensors_; }
  const StTensorInfo* find(std::string_view name) const;
  // Like find() but throws "<file>: missing tensor '<name>'".
  const StTensorInfo& at(std::string_view name) const;

  std::span<const std::byte> bytes(const StTensorInfo& t) const;
  // F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL -> float (integers converted by value).
  std::vector<float> to_f32(const StTensorInfo& t) const;
  // Integer and BOOL tensors -> int64; floating tensors are refused (naming file and tensor).
  std::vector<int64_t> to_i64(const StTensorInfo& t) const;

  // The "__metadata__" object (empty object when absent).
  const nlohmann::json& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }
  // "<file name>: " prefix used in every message about this file.
  std::string where() const;

 private:
  SafeTensors() = default;
  void parse_header();

  std::filesystem::path path_;
  MappedFile map_;
  uint64_t data_offset_ = 0;  // 8 + header length
  std::vector<StTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  nlohmann::json metadata_ = nlohmann::json::object();
};

// True for names whose extension marks a pickle checkpoint (.ckpt, .pt, .pth, .bin).
bool is_pickle_extension(const std::filesystem::path& p);

}  // namespace vkf::io
