// A contiguous device tensor (up to 5-D) over a pooled device buffer. Views (reshape, batch slices) share
// the buffer. Host transfers: from_host/to_host (synchronous; call them outside an open recording).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/vk/allocator.h"

namespace vkf {
namespace vk {
class Context;
}

enum class DType : uint8_t { F32, F16, I32 };
size_t dtype_size(DType d);
const char* dtype_name(DType d);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<vk::Buffer> buf, Shape shape, DType dtype, uint64_t offset = 0);

  bool defined() const { return buf_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return int(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(size_t(i < 0 ? i + rank() : i)); }
  int64_t numel() const { return shape_numel(shape_); }
  uint64_t bytes() const { return uint64_t(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  const vk::Buffer& buffer() const { return *buf_; }
  const std::shared_ptr<vk::Buffer>& buffer_ptr() const { return buf_; }
  uint64_t offset() const { return offset_; }  // bytes into buffer()

  Tensor reshape(Shape s) const;               // same data, new shape (numel must match; one -1 allowed)
  Tensor slice0(int64_t begin, int64_t end) const;  // rows [begin,end) along axis 0, a view

 private:
  std::shared_ptr<vk::Buffer> buf_;
  Shape shape_;
  DType dtype_ = DType::F32;
  uint64_t offset_ = 0;
};

Tensor empty(vk::Context& ctx, Shape shape, DType dtype = DType::F32);
// Uploads float data, converting to `dtype` (F16 rounds to nearest even). Safe while a recording is open:
// the new tensor never shares memory with unsubmitted work. (upload() into an existing tensor is not:
// the caller must know no unsubmitted command uses it.)
Tensor from_host(vk::Context& ctx, Shape shape, std::span<const float> data, DType dtype = DType::F32);
Tensor from_host_i32(vk::Context& ctx, Shape shape, std::span<const int32_t> data);
void upload(vk::Context& ctx, const Tensor& t, std::span<const float> data);
// Downloads and converts to float (waits for nothing: the caller has submitted the producing work).
std::vector<float> to_host(vk::Context& ctx, const Tensor& t);
// Raw bytes in/out (dtype as stored).
void upload_bytes(vk::Context& ctx, const Tensor& t, std::span<const std::byte> data);
std::vector<std::byte> download_bytes(vk::Context& ctx, const Tensor& t);

float half_bits_to_float(uint16_t h);
uint16_t float_to_half_bits(float f);

}  // namespace vkf
