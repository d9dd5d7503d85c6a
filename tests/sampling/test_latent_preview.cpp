// Latent previews: the GPU latent->RGB map against its CPU reference on random latents of odd sizes, the
// factors a config sidecar gives, and a real KSampler run on the bundled model through the execution
// queue, whose progress events carry one preview per step (latent resolution) only when asked for.
#include <catch2/catch.hpp>

#include <mutex>

#include "engine/graph/exec_queue.h"
#include "engine/models/sd_config.h"
#include "engine/sampling/latent_preview.h"
#include "tests/support/gpu.h"

using namespace vkf;
using namespace std::chrono_literals;

TEST_CASE("latent preview: GPU map matches the CPU reference on odd shapes", "[sampling][preview]") {
  auto& ctx = test::gpu();
  sampling::LatentRgbFactors f4 = sampling::sd15_latent_rgb();
  f4.bias = {0.05f, -0.1f, 0.2f};
  sampling::LatentRgbFactors f3{{{0.5f, -0.2f, 0.1f}, {-0.3f, 0.4f, 0.9f}, {0.2f, 0.2f, -0.6f}}, {0, 0, 0}};
  struct Case {
    int64_t B, C, H, W;
    sampling::LatentRgbFactors f;
  };
  for (const Case& c : {Case{1, 4, 7, 13, f4}, Case{3, 4, 1, 1, f4}, Case{2, 3, 33, 5, f3}}) {
    const auto host = test::random_floats(size_t(c.B * c.C * c.H * c.W), uint32_t(c.H * 31 + c.W), -2.5f, 2.5f);
    Tensor x = from_host(ctx, {c.B, c.C, c.H, c.W}, host);
    sampling::LatentPreviewer pv(ctx, c.f);
    vk::Recorder rec(ctx);
    auto img = pv.make(rec, x);
    REQUIRE(img);
    const std::vector<float> item0(host.begin(), host.begin() + c.C * c.H * c.W);  // batch item 0 only
    auto ref = sampling::latent_preview_ref(item0, c.C, c.H, c.W, c.f);
    CHECK(img->width == c.W);
    CHECK(img->height == c.H);
    REQUIRE(img->rgb.size() == ref.rgb.size());
    int worst = 0;
    for (size_t i = 0; i < ref.rgb.size(); ++i) worst = std::max(worst, std::abs(int(img->rgb[i]) - int(ref.rgb[i])));
    CHECK(worst <= 1);  // fp32 sums in another order can round across one 8-bit step
  }
  // A latent whose channel count does not match the factors gets no preview.
  sampling::LatentPreviewer pv(ctx, f3);
  vk::Recorder rec(ctx);
  CHECK_FALSE(pv.make(rec, from_host(ctx, {1, 4, 2, 2}, test::random_floats(16, 1))));
}

TEST_CASE("latent preview: factors come from the config sidecar, else the family", "[cpu][sampling][preview]") {
  models::ModelConfig cfg;
  auto sd1 = sampling::latent_rgb_for(cfg);
  REQUIRE(sd1);
  CHECK(sd1->factors.size() == 4);
  CHECK(sd1->factors[3][2] == Approx(-0.7177f));
  cfg.unet.in_channels = 16;
  CHECK_FALSE(sampling::latent_rgb_for(cfg));  // no known map for 16 channels
  cfg.unet.in_channels = 4;
  cfg.latent_rgb_factors = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5f, 0.5f, 0.5f};
  cfg.latent_rgb_bias = {0.1f, 0.2f, 0.3f};
  auto own = sampling::latent_rgb_for(cfg);
  REQUIRE(own);
  CHECK(own->factors[3][0] == 0.5f);
  CHECK(own->bias[2] == 0.3f);
}

TEST_CASE("latent preview: a KSampler run through the queue sends one preview per step", "[sampling][preview][queue]") {
  graph::RunEnv env;
  env.paths.models_dir = std::filesystem::path(VKFLOW_SOURCE_DIR) / "models";
  env.paths.output_dir = env.paths.temp_dir = std::filesystem::temp_directory_path() / "vkflow_preview_test";
  env.services->set(graph::kGpuService, std::shared_ptr<void>(std::shared_ptr<void>(), &test::gpu()));
  env.previews = true;
  auto doc = nlohmann::json::parse(R"({
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "vkflow-fashion.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 96, "height": 64, "batch_size": 2}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a sneaker", "clip": ["4", 1]}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 3, "steps": 3, "cfg": 4, "sampler_name": "euler",
          "scheduler": "karras", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0],
          "latent_image": ["5", 0]}},
    "9": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}}})");
  std::mutex mu;
  std::vector<std::shared_ptr<const sampling::PreviewImage>> previews;
  int progress = 0;
  graph::RunStatus status = graph::RunStatus::Error;
  std::string error;
  {
    graph::ExecQueue q(env);
    q.on_event([&](const graph::QueueItem&, const graph::Event& e) {
      if (e.type != graph::EventType::Progress) return;
      std::lock_guard lk(mu);
      ++progress;
      previews.push_back(e.preview);
    });
    q.on_done([&](const graph::QueueItem&, const graph::RunResult& r) {
      std::lock_guard lk(mu);
      status = r.status;
      error = r.error_message + r.validation.to_string();
    });
    q.enqueue({"", 0, graph::Graph::from_json(doc)});
    REQUIRE(q.wait_idle(600s));
  }
  INFO(error);
  REQUIRE(status == graph::RunStatus::Success);
  CHECK(progress == 3);
  for (auto& p : previews) {
    REQUIRE(p);
    CHECK(p->width == 12);  // latent resolution of 96 x 64
    CHECK(p->height == 8);
    // a denoised latent maps to an image, not to one flat colour
    bool varied = false;
    for (size_t i = 3; i < p->rgb.size(); ++i) varied |= p->rgb[i] != p->rgb[i % 3];
    CHECK(varied);
  }
}
