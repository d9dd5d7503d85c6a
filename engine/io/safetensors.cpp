#include "engine/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <cctype>

#include "engine/io/half.h"
#include "engine/io/json_limits.h"

namespace vkf::io {

namespace {

struct DTypeEntry {
  StDType t;
  const char* name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {StDType::F64, "F64", 8}, {StDType::F32, "F32", 4}, {StDType::F16, "F16", 2},
    {StDType::BF16, "BF16", 2}, {StDType::I64, "I64", 8}, {StDType::I32, "I32", 4},
    {StDType::I16, "I16", 2}, {StDType::I8, "I8", 1}, {StDType::U8, "U8", 1},
    {StDType::BOOL, "BOOL", 1},
};

const DTypeEntry& entry(StDType t) {
  for (const auto& e : kDTypes)
    if (e.t == t) return e;
  throw std::logic_error("unknown StDType");
}

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // data is not necessarily aligned for T
  return v;
}

bool starts_with_bytes(std::span<const std::byte> b, std::string_view magic) {
  if (b.size() < magic.size()) return false;
  return std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

// Zip (torch >= 1.6 .ckpt/.pt) or a raw pickle stream (protocol 2..5, legacy torch.save).
bool looks_like_pickle(std::span<const std::byte> b) {
  if (starts_with_bytes(b, "PK\x03\x04")) return true;
  return b.size() >= 2 && uint8_t(b[0]) == 0x80 && uint8_t(b[1]) >= 2 && uint8_t(b[1]) <= 5;
}

}  // namespace

size_t dtype_size(StDType t) { return entry(t).size; }
const char* dtype_name(StDType t) { return entry(t).name; }

std::optional<StDType> parse_dtype(std::string_view s) {
  for (const auto& e : kDTypes)
    if (s == e.name) return e.t;
  return std::nullopt;
}

uint64_t StTensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= uint64_t(d);  // validated against overflow at load time
  return n;
}

std::string shape_str(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

bool is_pickle_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin";
}

std::string SafeTensors::where() const { return path_.filename().string() + ": "; }

SafeTensors SafeTensors::open(const std::filesystem::path& path) {
  const std::string fname = path.filename().string();
  const std::string pickle_msg =
      fname + ": pickle checkpoints are not loaded (unsafe); convert it to .safetensors";
  if (is_pickle_extension(path)) throw SafeTensorsError(pickle_msg);
  SafeTensors st;
  st.path_ = path;
  try {
    st.map_ = MappedFile::open(path);
  } catch (const std::runtime_error& e) {
    throw SafeTensorsError(e.what());
  }
  const auto file = st.map_.bytes();
  if (file.size() < 8) {
    throw SafeTensorsError(fname + ": file is too small (" + std::to_string(file.size()) +
                           " bytes) to be a safetensors file");
  }
  const uint64_t n = load<uint64_t>(file.data());  // little-endian host assumed (x86/arm64)
  const bool header_fits = n <= kMaxHeaderBytes && n <= file.size() - 8;
  // A pickle/zip file decodes to an absurd length or a header not starting with '{'.
  if ((!header_fits || n == 0 || char(file[8]) != '{') && looks_like_pickle(file))
    throw SafeTensorsError(pickle_msg);
  if (n > kMaxHeaderBytes) {
    throw SafeTensorsError(fname + ": header length " + std::to_string(n) + " exceeds the " +
                           std::to_string(kMaxHeaderBytes) + "-byte limit (corrupt or not a safetensors file)");
  }
  if (n > file.size() - 8) {
    throw SafeTensorsError(fname + ": header length " + std::to_string(n) + " exceeds the file size (" +
                           std::to_string(file.size()) + " bytes; truncated or not a safetensors file)");
  }
  st.data_offset_ = 8 + n;
  st.parse_header();
  return st;
}

void SafeTensors::parse_header() {
  const auto file = map_.bytes();
  const char* hb = reinterpret_cast<const char*>(file.data() + 8);
  const size_t hn = size_t(data_offset_ - 8);
  const uint64_t data_size = file.size() - data_offset_;
  nlohmann::json h;
  try {
    h = parse_json_checked(std::string_view(hb, hn), "header is not valid JSON");
  } catch (const JsonError& e) {
    throw SafeTensorsError(where() + e.what());
  }
  if (!h.is_object()) throw SafeTensorsError(where() + "header JSON is not an object");

  tensors_.reserve(h.size());
  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw SafeTensorsError(where() + "__metadata__ is not an object");
      metadata_ = v;
      continue;
    }
    const std::string tw = where() + "tensor '" + name + "': ";
    if (!v.is_object()) throw SafeTensorsError(tw + "entry is not an object");
    const auto dt = v.find("dtype");
    const auto sh = v.find("shape");
    const auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) throw SafeTensorsError(tw + "missing or non-string 'dtype'");
    if (sh == v.end() || !sh->is_array()) throw SafeTensorsError(tw + "missing or non-array 'shape'");
    if (off == v.end() || !off->is_array() || off->size() != 2)
      throw SafeTensorsError(tw + "'data_offsets' must be an array [begin, end]");

    StTensorInfo t;
    t.name = name;
    const auto d = parse_dtype(dt->get_ref<const std::string&>());
    if (!d) throw SafeTensorsError(tw + "unknown dtype '" + dt->get<std::string>() + "'");
    t.dtype = *d;

    uint64_t numel = 1;
    for (const auto& e : *sh) {
      // Parsed non-negative integers are "unsigned"; negatives and fractions are other kinds.
      if (!e.is_number_unsigned() || e.get<uint64_t>() > uint64_t(INT64_MAX))
        throw SafeTensorsError(tw + "shape " + sh->dump() + " has a negative or non-integer dimension");
      const uint64_t dim = e.get<uint64_t>();
      if (__builtin_mul_overflow(numel, dim, &numel))
        throw SafeTensorsError(tw + "shape " + sh->dump() + " overflows");
      t.shape.push_back(int64_t(dim));
    }
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(numel, uint64_t(dtype_size(t.dtype)), &nbytes))
      throw SafeTensorsError(tw + "shape " + sh->dump() + " overflows");

    for (const auto& e : *off)
      if (!e.is_number_unsigned())
        throw SafeTensorsError(tw + "data_offsets " + off->dump() + " are not non-negative integers");
    t.begin = (*off)[0].get<uint64_t>();
    t.end = (*off)[1].get<uint64_t>();
    const std::string range = "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.end < t.begin) throw SafeTensorsError(tw + range + " end before begin");
    if (t.end > data_size) {
      throw SafeTensorsError(tw + range + " exceed the data area (" + std::to_string(data_size) +
                             " bytes; file truncated?)");
    }
    if (t.end - t.begin != nbytes) {
      throw SafeTensorsError(tw + range + " hold " + std::to_string(t.end - t.begin) + " bytes but " +
                             dtype_name(t.dtype) + " " + shape_str(t.shape) + " needs " +
                             std::to_string(nbytes));
    }
    tensors_.push_back(std::move(t));
  }

  std::sort(tensors_.begin(), tensors_.end(), [](const StTensorInfo& a, const StTensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < tensors_.size(); ++i) {
    const auto& p = tensors_[i - 1];
    const auto& c = tensors_[i];
    // Empty tensors occupy no bytes and may share an offset with anything.
    if (c.begin < p.end && c.begin != c.end && p.begin != p.end) {
      throw SafeTensorsError(where() + "tensor '" + c.name + "': data_offsets [" + std::to_string(c.begin) +
                             ", " + std::to_string(c.end) + "] overlap tensor '" + p.name + "' [" +
                             std::to_string(p.begin) + ", " + std::to_string(p.end) + "]");
    }
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
}

const StTensorInfo* SafeTensors::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const StTensorInfo& SafeTensors::at(std::string_view name) const {
  if (const auto* t = find(name)) return *t;
  throw SafeTensorsError(where() + "missing tensor '" + std::string(name) + "'");
}

std::span<const std::byte> SafeTensors::bytes(const StTensorInfo& t) const {
  return map_.bytes().subspan(size_t(data_offset_ + t.begin), size_t(t.nbytes()));
}

std::vector<float> SafeTensors::to_f32(const StTensorInfo& t) const {
  const auto b = bytes(t);
  const size_t n = size_t(t.numel());
  const std::byte* p = b.data();
  std::vector<float> out(n);
  switch (t.dtype) {
    case StDType::F32:
      if (n) std::memcpy(out.data(), p, n * 4);
      break;
    case StDType::F16:
      for (size_t i = 0; i < n; ++i) out[i] = half_to_float(load<uint16_t>(p + 2 * i));
      break;
    case StDType::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load<uint16_t>(p + 2 * i));
      break;
    case StDType::F64:
      for (size_t i = 0; i < n; ++i) out[i] = float(load<double>(p + 8 * i));
      break;
    default: {
      const auto v = to_i64(t);
      for (size_t i = 0; i < n; ++i) out[i] = float(v[i]);
    }
  }
  return out;
}

std::vector<int64_t> SafeTensors::to_i64(const StTensorInfo& t) const {
  const auto b = bytes(t);
  const size_t n = size_t(t.numel());
  const std::byte* p = b.data();
  std::vector<int64_t> out(n);
  switch (t.dtype) {
    case StDType::I64:
      if (n) std::memcpy(out.data(), p, n * 8);
      break;
    case StDType::I32:
      for (size_t i = 0; i < n; ++i) out[i] = load<int32_t>(p + 4 * i);
      break;
    case StDType::I16:
      for (size_t i = 0; i < n; ++i) out[i] = load<int16_t>(p + 2 * i);
      break;
    case StDType::I8:
      for (size_t i = 0; i < n; ++i) out[i] = load<int8_t>(p + i);
      break;
    case StDType::U8:
      for (size_t i = 0; i < n; ++i) out[i] = load<uint8_t>(p + i);
      break;
    case StDType::BOOL:
      for (size_t i = 0; i < n; ++i) out[i] = load<uint8_t>(p + i) != 0;
      break;
    default:
      throw SafeTensorsError(where() + "tensor '" + t.name + "': dtype " + dtype_name(t.dtype) +
                             " is not an integer type");
  }
  return out;
}

}  // namespace vkf::io
