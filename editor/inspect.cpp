#include "editor/inspect.h"

#include <algorithm>
#include <cmath>

#include "nodes/value_types.h"

namespace vkf::editor {

std::optional<HeldTensor> held_tensor(const graph::Value& v) {
  auto held = [](auto p, const Tensor& t, const char* name, bool image) {
    return HeldTensor{std::shared_ptr<const void>(p), &t, name, image};
  };
  if (v.holds<nodes::Image>()) {
    auto p = v.get_shared<nodes::Image>();
    return held(p, p->pixels, "pixels", true);
  }
  if (v.holds<nodes::Latent>()) {
    auto p = v.get_shared<nodes::Latent>();
    auto h = held(p, p->samples, "samples", false);
    h.latent = true;
    return h;
  }
  if (v.holds<nodes::Mask>()) {
    auto p = v.get_shared<nodes::Mask>();
    return held(p, p->mask, "mask", false);
  }
  if (v.holds<nodes::Conditioning>()) {
    auto p = v.get_shared<nodes::Conditioning>();
    if (p->entries.empty()) return std::nullopt;
    return held(p, p->entries.front().context, "context", false);
  }
  return std::nullopt;
}

std::shared_ptr<const Image> image_thumbnail(vk::Context& ctx, const Tensor& pixels, int side) {
  if (pixels.rank() != 4 || pixels.dim(0) < 1 || pixels.dim(1) < 1 || pixels.dim(2) < 1) return nullptr;
  const int64_t H = pixels.dim(1), W = pixels.dim(2), C = pixels.dim(3);
  if (C != 1 && C < 3) return nullptr;
  const std::vector<float> px = to_host(ctx, pixels.slice0(0, 1));
  auto img = std::make_shared<Image>();
  const double s = std::min(1.0, double(side) / double(std::max(H, W)));
  img->width = std::max(1, int(std::lround(double(W) * s)));
  img->height = std::max(1, int(std::lround(double(H) * s)));
  img->rgb.resize(size_t(img->width) * size_t(img->height) * 3);
  for (int y = 0; y < img->height; ++y)
    for (int x = 0; x < img->width; ++x) {
      // The source pixel whose centre is nearest this cell's centre.
      const int64_t sy = std::min<int64_t>(H - 1, int64_t((y + 0.5) * double(H) / img->height));
      const int64_t sx = std::min<int64_t>(W - 1, int64_t((x + 0.5) * double(W) / img->width));
      for (int c = 0; c < 3; ++c) {
        float v = px[size_t((sy * W + sx) * C + (C == 1 ? 0 : c))];
        v = std::isfinite(v) ? std::clamp(v, 0.0f, 1.0f) : 0.0f;
        img->rgb[(size_t(y) * size_t(img->width) + size_t(x)) * 3 + size_t(c)] = uint8_t(std::lround(v * 255.0f));
      }
    }
  return img;
}

void attach_latent_maps(std::map<std::pair<std::string, int>, HeldTensor>& held,
                        const std::map<std::string, graph::Outputs>& outputs) {
  std::vector<sampling::LatentRgbFactors> maps;
  for (auto& [id, outs] : outputs)
    for (auto& v : outs)
      if (v.holds<nodes::Model>())
        if (auto m = v.get_shared<nodes::Model>(); m && m->ckpt)
          if (auto f = sampling::latent_rgb_for(m->ckpt->config)) maps.push_back(std::move(*f));
  for (auto& [key, h] : held) {
    if (!h.latent || h.tensor->rank() != 4) continue;
    const size_t C = size_t(h.tensor->dim(1));
    for (auto& f : maps)
      if (f.factors.size() == C) {
        h.latent_rgb = f;
        break;
      }
    if (!h.latent_rgb && C == 4) h.latent_rgb = sampling::sd15_latent_rgb();
  }
}

Inspector::Inspector(graph::ExecQueue& q, std::shared_ptr<graph::Services> services)
    : q_(q), services_(std::move(services)), worker_([this] { work(); }) {}

Inspector::~Inspector() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  worker_.join();
}

void Inspector::set_values(std::map<Key, HeldTensor> values) {
  values_ = std::move(values);
  std::erase_if(cache_, [](auto& e) { return e.second.owner.expired(); });
}

Inspector::State Inspector::get(const Key& k, const Inspection** out) {
  *out = nullptr;
  auto it = values_.find(k);
  if (it == values_.end()) return State::None;
  std::shared_ptr<const void> owner = it->second.owner.lock();
  if (!owner) return State::Gone;
  const void* id = owner.get();
  auto c = cache_.find(id);
  if (c != cache_.end() && c->second.owner.expired()) cache_.erase(c), c = cache_.end();  // a reused address
  if (c == cache_.end()) {
    c = cache_.emplace(id, Entry{owner, {}}).first;
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(Job{id, std::move(owner), it->second});
    }
    cv_.notify_one();
  }
  *out = &c->second.result;
  return c->second.result.ready ? State::Ready : State::Pending;
}

bool Inspector::poll() {
  std::vector<std::pair<const void*, Inspection>> done;
  {
    std::lock_guard lock(mu_);
    done.swap(finished_);
  }
  for (auto& [id, r] : done)
    if (auto c = cache_.find(id); c != cache_.end()) c->second.result = std::move(r), ++computed_;
  return !done.empty();
}

void Inspector::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Inspection r;
    // Under the executor's lock: after the running prompt (if any), before the next.
    q_.with_executor([&](graph::Executor&) {
      try {
        auto& ctx = services_->get<vk::Context>(graph::kGpuService);
        const Tensor& t = *job.held.tensor;
        if (t.dtype() == DType::I32) r.error = "integer tensor: no statistics";
        else r.stats = ops::tensor_stats(ctx, t);
        if (job.held.image) r.thumb = image_thumbnail(ctx, t), r.thumb_what = "batch item 0";
        if (job.held.latent) {
          if (!job.held.latent_rgb) r.thumb_what = "no latent-to-RGB map for " + std::to_string(t.rank() == 4 ? t.dim(1) : 0) + " channels";
          else if (t.dtype() != DType::F32) r.thumb_what = "no thumbnail for a non-f32 latent";
          else {
            vk::Recorder rec(ctx);  // one dispatch; only the RGB8 image (latent resolution) is read back
            r.thumb = sampling::LatentPreviewer(ctx, *job.held.latent_rgb).make(rec, t);
            r.thumb_what = r.thumb ? "batch item 0, latent to RGB" : "no thumbnail for this latent shape";
          }
        }
      } catch (const std::exception& e) {
        r.error = e.what();
      }
    });
    r.ready = true;
    job.owner.reset();  // before handing back: the cache may evict it any time now
    std::lock_guard lock(mu_);
    finished_.emplace_back(job.id, std::move(r));
  }
}

}  // namespace vkf::editor
