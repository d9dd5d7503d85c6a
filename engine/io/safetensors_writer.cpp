#include "engine/io/safetensors_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

namespace vkf::io {

namespace {
uint64_t checked_numel(const std::string& name, const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("tensor '" + name + "': negative dimension in " + shape_str(shape));
    if (__builtin_mul_overflow(n, uint64_t(d), &n))
      throw std::invalid_argument("tensor '" + name + "': shape " + shape_str(shape) + " overflows");
  }
  return n;
}
}  // namespace

void SafeTensorsWriter::add(std::string name, StDType dtype, std::vector<int64_t> shape,
                            std::span<const std::byte> data) {
  if (name == "__metadata__") throw std::invalid_argument("tensor name '__metadata__' is reserved");
  for (const auto& e : entries_)
    if (e.name == name) throw std::invalid_argument("tensor '" + name + "' added twice");
  const uint64_t need = checked_numel(name, shape) * dtype_size(dtype);
  if (data.size() != need) {
    throw std::invalid_argument("tensor '" + name + "': " + std::to_string(data.size()) + " bytes given, " +
                                dtype_name(dtype) + " " + shape_str(shape) + " needs " + std::to_string(need));
  }
  entries_.push_back({std::move(name), dtype, std::move(shape), {data.begin(), data.end()}});
}

void SafeTensorsWriter::add_f32(std::string name, std::vector<int64_t> shape, std::span<const float> data) {
  add(std::move(name), StDType::F32, std::move(shape), std::as_bytes(data));
}
void SafeTensorsWriter::add_f16(std::string name, std::vector<int64_t> shape, std::span<const uint16_t> data) {
  add(std::move(name), StDType::F16, std::move(shape), std::as_bytes(data));
}
void SafeTensorsWriter::add_i64(std::string name, std::vector<int64_t> shape, std::span<const int64_t> data) {
  add(std::move(name), StDType::I64, std::move(shape), std::as_bytes(data));
}

void SafeTensorsWriter::add_zeros(std::string name, StDType dtype, std::vector<int64_t> shape) {
  const std::vector<std::byte> z(size_t(checked_numel(name, shape) * dtype_size(dtype)));
  add(std::move(name), dtype, std::move(shape), z);
}

void SafeTensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

std::string SafeTensorsWriter::header_json() const {
  // ordered_json keeps tensors in insertion (= data) order, which readers find friendlier.
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata_.empty()) {
    auto& m = h["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata_) m[k] = v;
  }
  uint64_t off = 0;
  for (const auto& e : entries_) {
    h[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {off, off + e.data.size()}}};
    off += e.data.size();
  }
  return h.dump();
}

void SafeTensorsWriter::write(const std::filesystem::path& path) const {
  std::string header = header_json();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(tmp.string() + ": cannot create: " + std::strerror(errno));
    const uint64_t n = header.size();
    f.write(reinterpret_cast<const char*>(&n), 8);  // little-endian host
    f.write(header.data(), std::streamsize(header.size()));
    for (const auto& e : entries_) f.write(reinterpret_cast<const char*>(e.data.data()), std::streamsize(e.data.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(tmp.string() + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot rename from .tmp: " + why);
  }
}

}  // namespace vkf::io
