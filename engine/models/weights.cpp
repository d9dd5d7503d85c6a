#include "engine/models/weights.h"

#include <stdexcept>

#include "engine/io/half.h"
#include "engine/io/safetensors.h"
#include "engine/vk/context.h"

namespace vkf::models {

namespace {
bool is_weight(const io::StTensorInfo& info, std::string_view prefix) {
  // position_ids and other integer buffers are not weights
  return info.name.compare(0, prefix.size(), prefix) == 0 &&
         (info.dtype == io::StDType::F32 || info.dtype == io::StDType::F16 || info.dtype == io::StDType::BF16 ||
          info.dtype == io::StDType::F64);
}
}  // namespace

void Weights::load_prefix(const io::SafeTensors& st, std::string_view prefix) {
  auto bytes_of = [&](const io::StTensorInfo& info) {
    return std::max<uint64_t>(uint64_t(shape_numel(Shape(info.shape.begin(), info.shape.end()))) * dtype_size(dtype_), 4);
  };
  // Exact-size buffers in memory reserved for exactly these weights: they live as long as the model and are
  // never recycled as intermediates.
  uint64_t total = 0;
  for (const auto& info : st.tensors())
    if (is_weight(info, prefix)) total += ctx_->allocator().exact_footprint(bytes_of(info));
  if (total) ctx_->allocator().reserve_exact(total);
  for (const auto& info : st.tensors()) {
    if (!is_weight(info, prefix)) continue;
    Shape shape(info.shape.begin(), info.shape.end());
    Tensor t(ctx_->allocator().alloc_exact(bytes_of(info)), shape, dtype_);
    if (info.dtype == io::StDType::F16 && dtype_ == DType::F16) {
      upload_bytes(*ctx_, t, st.bytes(info));  // same storage: no conversion
    } else {
      auto f = st.to_f32(info);
      upload(*ctx_, t, f);
    }
    t_[info.name] = std::move(t);
  }
}

const Tensor& Weights::get(const std::string& name) const {
  auto it = t_.find(name);
  if (it == t_.end()) throw std::runtime_error("checkpoint has no tensor '" + name + "'");
  return it->second;
}

uint64_t Weights::bytes() const {
  uint64_t n = 0;
  for (auto& [k, t] : t_) n += t.bytes();
  return n;
}

}  // namespace vkf::models
