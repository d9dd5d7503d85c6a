#include <catch2/catch.hpp>

#include "engine/ops/image_scale.h"
#include "tests/support/gpu.h"

using namespace vkf;

TEST_CASE("image_scale matches the CPU reference for every mode, odd sizes and centre crop", "[ops][image_scale]") {
  auto& ctx = test::gpu();
  struct Case {
    int64_t B, H, W, C, OH, OW;
    bool center;
  } cases[] = {{1, 7, 5, 3, 13, 11, false}, {2, 16, 24, 4, 5, 9, false}, {1, 9, 17, 3, 8, 8, true}, {1, 20, 6, 1, 7, 9, true}};
  for (auto& c : cases)
    for (auto mode : {ops::ScaleMode::NearestExact, ops::ScaleMode::Bilinear, ops::ScaleMode::Bicubic, ops::ScaleMode::Area}) {
      auto src = test::random_floats(size_t(c.B * c.H * c.W * c.C), 7, 0.0f, 1.0f);
      vk::Recorder rec(ctx);
      Tensor t = from_host(ctx, {c.B, c.H, c.W, c.C}, src);
      Tensor o = ops::image_scale(rec, t, c.OH, c.OW, mode, c.center);
      rec.submit();
      auto crop = c.center ? ops::center_crop(c.H, c.W, c.OH, c.OW) : ops::CropWindow{0, 0, c.W, c.H};
      auto ref = ops::image_scale_ref(src, c.B, c.H, c.W, c.C, c.OH, c.OW, mode, crop);
      INFO("mode " << int(mode) << " " << c.H << "x" << c.W << " -> " << c.OH << "x" << c.OW);
      // Same fp32 formulas on both sides; only FMA contraction / summation order differ.
      CHECK(test::max_abs_diff(to_host(ctx, o), ref) <= 1e-5f);
    }
}

TEST_CASE("image_scale reproduces torch.interpolate reference values", "[ops][image_scale]") {
  // 2x2 -> 4x4 bilinear (align_corners=False) of [[0,1],[2,3]]: torch gives rows
  // [0,.25,.75,1], [.5,.75,1.25,1.5], [1.5,1.75,2.25,2.5], [2,2.25,2.75,3].
  auto ref = ops::image_scale_ref({0, 1, 2, 3}, 1, 2, 2, 1, 4, 4, ops::ScaleMode::Bilinear, {0, 0, 2, 2});
  std::vector<float> torch = {0, .25f, .75f, 1, .5f, .75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
  CHECK(test::max_abs_diff(ref, torch) <= 1e-6f);
}
