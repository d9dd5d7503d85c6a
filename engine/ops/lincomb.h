// Linear combination of up to 4 same-shaped tensors: out = sum c_k * t_k + bias (fp32 arithmetic).
#pragma once
#include <utility>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

struct Term {
  float c;
  const Tensor* t;
};

// CPU reference.
std::vector<float> lincomb_ref(const std::vector<std::pair<float, std::vector<float>>>& terms, float bias, size_t n);

// Records out = sum(terms) + bias. 1..4 terms; `out` may alias an input (element-wise, same index).
void lincomb(vk::Recorder& rec, const Tensor& dst, std::initializer_list<Term> terms, float bias = 0.0f);
// Convenience: allocates the output like the first term.
Tensor lincomb(vk::Recorder& rec, std::initializer_list<Term> terms, float bias = 0.0f);

}  // namespace vkf::ops
