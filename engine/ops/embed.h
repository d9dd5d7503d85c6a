// Embedding lookups: token embedding gather and the sinusoidal timestep embedding of ldm/SD.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/tensor/tensor.h"
#include "engine/vk/recorder.h"

namespace vkf::ops {

// Host-side validation of token ids before upload (ids are host data): throws std::invalid_argument
// naming `what`, the first bad position and id when an id is outside [0, vocab).
void check_ids(std::span<const int32_t> ids, int64_t vocab, const char* what = "embedding");

// ids I32 [...] + table [V, D] (F32/F16) -> [..., D] in the table's dtype. The shader clamps ids into
// [0, V) (defence only; validate with check_ids). Tables over maxStorageBufferRange (an f32 49408x768
// CLIP table is 145 MiB) are bound in row chunks, long id lists / outputs in token chunks.
std::vector<float> embedding_ref(const std::vector<int32_t>& ids, const std::vector<float>& table, int64_t dim);
void embedding(vk::Recorder& rec, const Tensor& ids, const Tensor& table, const Tensor& dst);
Tensor embedding(vk::Recorder& rec, const Tensor& ids, const Tensor& table);

// t [B] (F32) -> [B, dim]: half = dim/2, freqs[i] = exp(-ln(max_period) * i / half), a = t * freqs,
// out = cat(cos(a), sin(a)) (cos first), plus a zero column when dim is odd. Reference in fp32 like
// PyTorch's (fp32 freqs and products, accurate cos/sin).
std::vector<float> timestep_embedding_ref(const std::vector<float>& t, int dim, float max_period = 10000.0f);
void timestep_embedding(vk::Recorder& rec, const Tensor& t, const Tensor& dst, float max_period = 10000.0f);
Tensor timestep_embedding(vk::Recorder& rec, const Tensor& t, int dim, DType dtype = DType::F32,
                          float max_period = 10000.0f);

}  // namespace vkf::ops
