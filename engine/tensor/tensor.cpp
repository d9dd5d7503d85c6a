#include "engine/tensor/tensor.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "engine/vk/context.h"
#include "engine/vk/transfer.h"

namespace vkf {

size_t dtype_size(DType d) { return d == DType::F16 ? 2 : 4; }
const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::I32: return "i32";
  }
  return "?";
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << ']';
  return o.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(s));
    n *= d;
  }
  return n;
}

Tensor::Tensor(std::shared_ptr<vk::Buffer> buf, Shape shape, DType dtype, uint64_t offset)
    : buf_(std::move(buf)), shape_(std::move(shape)), dtype_(dtype), offset_(offset) {
  if (shape_.size() > 5) throw std::invalid_argument("tensors have at most 5 dimensions, got " + shape_str(shape_));
}

Tensor Tensor::reshape(Shape s) const {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 in " + shape_str(s));
      infer = int(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) s[size_t(infer)] = known ? numel() / known : 0;
  if (shape_numel(s) != numel())
    throw std::invalid_argument("reshape " + shape_str(shape_) + " -> " + shape_str(s) + ": element counts differ");
  return Tensor(buf_, std::move(s), dtype_, offset_);
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  if (rank() == 0 || begin < 0 || end > shape_[0] || begin > end)
    throw std::out_of_range("slice0 [" + std::to_string(begin) + "," + std::to_string(end) + ") of " + shape_str(shape_));
  int64_t row = shape_[0] ? numel() / shape_[0] : 0;
  Shape s = shape_;
  s[0] = end - begin;
  return Tensor(buf_, std::move(s), dtype_, offset_ + uint64_t(begin * row) * dtype_size(dtype_));
}

Tensor empty(vk::Context& ctx, Shape shape, DType dtype) {
  int64_t n = shape_numel(shape);
  auto buf = ctx.allocator().alloc(std::max<uint64_t>(uint64_t(n) * dtype_size(dtype), 4));
  return Tensor(std::move(buf), std::move(shape), dtype);
}

float half_bits_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return uint16_t(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));  // inf / nan
  if (ax >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds to >= 65520 -> inf
  if (ax < 0x38800000) {  // subnormal or zero in half
    if (ax < 0x33000000) return uint16_t(sign);
    uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;  // 14 + (113 - e) - 1
    uint32_t half = m >> shift, rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = ((ax >> 13) - (112u << 10));
  uint32_t rem = ax & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return uint16_t(sign | half);
}

void upload_bytes(vk::Context& ctx, const Tensor& t, std::span<const std::byte> data) {
  if (data.size() != t.bytes())
    throw std::invalid_argument("upload: " + std::to_string(data.size()) + " bytes for tensor of " + std::to_string(t.bytes()));
  vk::write_buffer(ctx, t.buffer(), t.offset(), data);
}

std::vector<std::byte> download_bytes(vk::Context& ctx, const Tensor& t) {
  std::vector<std::byte> out(t.bytes());
  vk::read_buffer(ctx, t.buffer(), t.offset(), out);
  return out;
}

void upload(vk::Context& ctx, const Tensor& t, std::span<const float> data) {
  if (int64_t(data.size()) != t.numel())
    throw std::invalid_argument("upload: " + std::to_string(data.size()) + " values for tensor " + shape_str(t.shape()));
  if (t.dtype() == DType::F32) {
    upload_bytes(ctx, t, std::as_bytes(data));
  } else if (t.dtype() == DType::F16) {
    std::vector<uint16_t> h(data.size());
    for (size_t i = 0; i < data.size(); ++i) h[i] = float_to_half_bits(data[i]);
    upload_bytes(ctx, t, std::as_bytes(std::span<const uint16_t>(h)));
  } else {
    throw std::invalid_argument("upload of float data into an integer tensor");
  }
}

namespace {
// Fresh tensors written by the host right away take buffers no unsubmitted work can touch.
Tensor empty_for_upload(vk::Context& ctx, Shape shape, DType dtype) {
  int64_t n = shape_numel(shape);
  auto buf = ctx.allocator().alloc_for_upload(std::max<uint64_t>(uint64_t(n) * dtype_size(dtype), 4));
  return Tensor(std::move(buf), std::move(shape), dtype);
}
}  // namespace

Tensor from_host(vk::Context& ctx, Shape shape, std::span<const float> data, DType dtype) {
  Tensor t = empty_for_upload(ctx, std::move(shape), dtype);
  upload(ctx, t, data);
  return t;
}

Tensor from_host_i32(vk::Context& ctx, Shape shape, std::span<const int32_t> data) {
  Tensor t = empty_for_upload(ctx, std::move(shape), DType::I32);
  upload_bytes(ctx, t, std::as_bytes(data));
  return t;
}

std::vector<float> to_host(vk::Context& ctx, const Tensor& t) {
  auto raw = download_bytes(ctx, t);
  std::vector<float> out(size_t(t.numel()));
  if (t.dtype() == DType::F32) {
    std::memcpy(out.data(), raw.data(), raw.size());
  } else if (t.dtype() == DType::F16) {
    const auto* h = reinterpret_cast<const uint16_t*>(raw.data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = half_bits_to_float(h[i]);
  } else {
    const auto* v = reinterpret_cast<const int32_t*>(raw.data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = float(v[i]);
  }
  return out;
}

}  // namespace vkf
