// What the canvas shows about a run beyond the graph: before queueing, which nodes will run and which come
// from the executor's cache (Executor::plan); after a run, each node's time and output memory
// (RunResult::stats); hovering a link, the type and shape of the value on it and its figures (Inspector). Also the recent-files list,
// kept in the user's config folder.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "editor/app.h"

namespace vkf::editor {
namespace {

constexpr float kTitleH = 26;
constexpr ImU32 kWillRun = IM_COL32(0xFF, 0x98, 0x30, 255), kFromCache = IM_COL32(0x30, 0xC8, 0xC8, 255);

ImVec2 bezier_at(ImVec2 a, ImVec2 b, float t) {
  float dx = std::max(40.0f, std::abs(b.x - a.x) * 0.5f);
  ImVec2 c1{a.x + dx, a.y}, c2{b.x - dx, b.y};
  float u = 1 - t, w0 = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, w3 = t * t * t;
  return {w0 * a.x + w1 * c1.x + w2 * c2.x + w3 * b.x, w0 * a.y + w1 * c1.y + w2 * c2.y + w3 * b.y};
}

}  // namespace

std::string node_figures(const graph::NodeStats& st) {
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%.1f ms", st.ms);
  if (st.gpu_ms) n += std::snprintf(buf + n, sizeof buf - size_t(n), " (GPU %.1f)", *st.gpu_ms);
  n += std::snprintf(buf + n, sizeof buf - size_t(n), " | %s", format_bytes(st.bytes).c_str());
  if (st.peak_bytes) std::snprintf(buf + n, sizeof buf - size_t(n), ", peak %s", format_bytes(*st.peak_bytes).c_str());
  return buf;
}

std::string format_bytes(size_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%zu B", n);
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024);
  else if (n < size_t(1) << 30) std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.2f GiB", double(n) / (1024.0 * 1024 * 1024));
  return buf;
}

void App::update_plan() {
  if (runner_->busy()) return;  // the marks show what the next run does; during a run the run's own show
  if (plan_rev_ == ed_->revision() && plan_runs_ == runner_->finished_runs()) return;
  plan_rev_ = ed_->revision(), plan_runs_ = runner_->finished_runs();
  plan_.clear(), plan_error_.clear();
  auto p = runner_->plan(run_graph());
  if (!p) return;
  if (!p->ok()) {
    plan_error_ = p->error;
    for (auto& e : p->validation.errors)
      plan_error_ += (plan_error_.empty() ? "" : "; ") + (e.node_id.empty() ? "" : "node " + e.node_id + ": ") + e.message;
    return;
  }
  // Every other node will not execute: its result is in the cache (p->cached), it is above a cached
  // node, or it feeds no output.
  for (auto& n : ed_->graph().nodes()) plan_[n.id] = false;
  for (auto& id : p->to_run) plan_[id] = true;
}

void App::draw_overlay(ImDrawList* dl, const NodeBox& b) {
  ImVec2 a = to_screen(b.pos), z = to_screen({b.pos.x + b.size.x, b.pos.y + b.size.y});
  if (!runner_->busy())
    if (auto it = plan_.find(b.id); it != plan_.end()) {  // a dot at the title's right end
      float r = std::max(3.0f, 6 * zoom_);
      dl->AddCircleFilled({z.x - 12 * zoom_ - r, a.y + kTitleH * zoom_ / 2}, r, it->second ? kWillRun : kFromCache);
    }
  if (zoom_ < 0.4f) return;
  const graph::NodeStats* st = runner_->stats(b.id);
  const NodeRunState* rs = runner_->node(b.id);
  if (!st || (rs && !rs->error.empty())) return;
  char buf[96];
  if (st->cached) std::snprintf(buf, sizeof buf, "cached | %s", format_bytes(st->bytes).c_str());
  else std::snprintf(buf, sizeof buf, "%s", node_figures(*st).c_str());
  dl->AddText(nullptr, ImGui::GetFont()->FontSize * std::min(ImGui::GetIO().FontGlobalScale, zoom_), {a.x + 4 * zoom_, z.y + 3 * zoom_},
              IM_COL32(0xB0, 0xB8, 0xC8, 255), buf);
}

std::optional<ImVec2> App::link_midpoint(const std::string& to, const std::string& input) {
  const graph::Node* n = ed_->graph().find(to);
  if (!n || !n->inputs().contains(input)) return std::nullopt;
  auto l = graph::parse_link(n->inputs()[input]);
  if (!l) return std::nullopt;
  auto a = socket_screen(l->node, true, std::to_string(l->output));
  auto b = socket_screen(to, false, input);
  if (!a || !b) return std::nullopt;
  return zoom_ < 0.35f ? ImVec2{(a->x + b->x) / 2, (a->y + b->y) / 2} : bezier_at(*a, *b, 0.5f);
}

void App::link_hover(ImDrawList* dl) {
  link_tip_.clear(), link_thumb_.clear(), link_stats_ = nullptr, link_thumb_img_.reset();
  ImVec2 m = ImGui::GetIO().MousePos;
  if (drag_ != DragKind::None || m.x < origin_.x || m.y < origin_.y || m.x > origin_.x + canvas_size_.x ||
      m.y > origin_.y + canvas_size_.y || node_at(m) || ImGui::IsAnyItemHovered())
    return;
  constexpr int kSamples = 24;
  float best = 6.0f * 6.0f;
  ImVec2 ba, bc;
  std::string src, to, input, type;
  int out = 0;
  for_each_link([&](const NodeBox& sb, int o, const NodeBox& b, const Slot& s, ImVec2 a, ImVec2 c) {
    if (m.x < std::min(a.x, c.x) - 60 || m.x > std::max(a.x, c.x) + 60 || m.y < std::min(a.y, c.y) - 10 ||
        m.y > std::max(a.y, c.y) + 10)
      return;
    for (int k = 0; k <= kSamples; ++k) {
      float t = float(k) / kSamples;
      ImVec2 p = zoom_ < 0.35f ? ImVec2{a.x + (c.x - a.x) * t, a.y + (c.y - a.y) * t} : bezier_at(a, c, t);
      float d = (p.x - m.x) * (p.x - m.x) + (p.y - m.y) * (p.y - m.y);
      if (d < best) best = d, ba = a, bc = c, src = sb.id, out = o, to = b.id, input = s.name, type = sb.outs[size_t(o)].type;
    }
  });
  if (src.empty()) return;
  if (zoom_ < 0.35f) dl->AddLine(ba, bc, IM_COL32(255, 255, 255, 255), 3.0f);
  else {
    float dx = std::max(40.0f, std::abs(bc.x - ba.x) * 0.5f);
    dl->AddBezierCubic(ba, {ba.x + dx, ba.y}, {bc.x - dx, bc.y}, bc, IM_COL32(255, 255, 255, 255), std::max(2.5f, 4.0f * zoom_));
  }
  link_tip_ = type;
  const graph::NodeStats* st = runner_->stats(src);
  if (st && size_t(out) < st->output_types.size()) {
    link_tip_ = st->output_types[size_t(out)];
    if (!st->output_summaries[size_t(out)].empty()) link_tip_ += ": " + st->output_summaries[size_t(out)];
  } else {
    link_tip_ += " (queue the graph to inspect the value)";
  }
  link_tip_ += "\nnode " + src + " output " + std::to_string(out) + " -> node " + to + " " + input;
  // The value's figures from its GPU buffer: asked for once per value, shown when they arrive.
  const Inspection* ins = nullptr;
  auto state = runner_->inspector().get({src, out}, &ins);
  std::string figures;
  if (state == Inspector::State::Ready && ins->error.empty()) {
    const ops::TensorStats& t = ins->stats;
    char buf[160];
    std::snprintf(buf, sizeof buf, "min %.4g  max %.4g  mean %.4g\nNaN %llu  Inf %llu (of %llu)", double(t.min),
                  double(t.max), t.mean, (unsigned long long)t.nan, (unsigned long long)t.inf,
                  (unsigned long long)(t.nan + t.inf + t.finite));
    figures = buf;
    link_stats_ = {{"status", "ready"}, {"min", t.min},  {"max", t.max},   {"mean", t.mean},
                   {"nan", t.nan},      {"inf", t.inf}, {"finite", t.finite}};
  } else if (state == Inspector::State::Ready) {
    figures = "no statistics: " + ins->error;
    link_stats_ = {{"status", "error"}, {"error", ins->error}};
  } else if (state == Inspector::State::Pending) {
    figures = runner_->busy() ? "statistics after the run" : "reading the value...";
    link_stats_ = {{"status", "pending"}};
  } else if (state == Inspector::State::Gone) {
    figures = "the value is no longer held (evicted from the cache)";
    link_stats_ = {{"status", "gone"}};
  }
  // A thumbnail: an IMAGE's own pixels (from its GPU buffer, with the figures), a sampler's LATENT its
  // last latent preview, else an IMAGE going into a node that showed it (SaveImage / PreviewImage).
  std::shared_ptr<const Image> thumb;
  const char* what = "";
  const NodeRunState* s = st ? runner_->node(src) : nullptr;
  const NodeRunState* d = st ? runner_->node(to) : nullptr;
  if (ins && ins->thumb) thumb = ins->thumb, what = ins->thumb_what.c_str();
  else if (s && s->preview && type == "LATENT") thumb = s->preview, what = "latent preview";
  else if (d && d->image && type == "IMAGE") thumb = d->image, what = "as shown by the target node";
  link_thumb_img_ = thumb;
  link_thumb_ = thumb ? std::to_string(thumb->width) + "x" + std::to_string(thumb->height) + " " + what : "";
  if (thumb && !link_stats_.is_null()) link_stats_["thumbnail"] = {thumb->width, thumb->height};
  ImGui::BeginTooltip();
  ImGui::TextUnformatted(link_tip_.c_str());
  if (!figures.empty()) ImGui::TextUnformatted(figures.c_str());
  if (thumb) {
    float w = 128, h = w * float(thumb->height) / float(std::max(1, thumb->width));
    ImVec2 p = ImGui::GetCursorScreenPos();
    draw_image(ImGui::GetWindowDrawList(), *thumb, p, {p.x + w, p.y + h});
    ImGui::Dummy({w, h});
    ImGui::TextDisabled("%s", what);
  }
  ImGui::EndTooltip();
}

void App::stats_panel() {
  const auto& all = runner_->stats();
  if (all.empty()) return;
  std::vector<std::pair<std::string, const graph::NodeStats*>> rows;
  double total = 0, gpu = 0;
  size_t bytes = 0, peak = 0;
  bool profiled = false;
  for (auto& [id, st] : all) {
    rows.emplace_back(id, &st), total += st.ms, bytes += st.bytes;
    if (st.gpu_ms) gpu += *st.gpu_ms, profiled = true;
    if (st.peak_bytes) peak = std::max<size_t>(peak, *st.peak_bytes);
  }
  std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.second->ms > y.second->ms; });
  ImGui::Separator();
  if (profiled) ImGui::TextDisabled("Last run: %.0f ms in nodes, GPU %.0f ms", total, gpu);
  else ImGui::TextDisabled("Last run: %.0f ms in nodes", total);
  if (peak) ImGui::TextDisabled("outputs %s, device peak %s", format_bytes(bytes).c_str(), format_bytes(peak).c_str());
  else ImGui::TextDisabled("outputs %s", format_bytes(bytes).c_str());
  for (size_t i = 0; i < rows.size() && i < 8; ++i) {
    const graph::Node* n = ed_->graph().find(rows[i].first);
    ImGui::Text("%s %.20s", rows[i].first.c_str(), n ? n->class_type.c_str() : "?");
    if (rows[i].second->cached) ImGui::TextDisabled("  cached %s", format_bytes(rows[i].second->bytes).c_str());
    else ImGui::TextDisabled("  %s", node_figures(*rows[i].second).c_str());
  }
}

nlohmann::json App::state_json() {
  relayout();
  nlohmann::json nodes = nlohmann::json::object();
  for (auto& b : boxes_) {
    ImVec2 a = to_screen(b.pos), z = to_screen({b.pos.x + b.size.x, b.pos.y + b.size.y});
    nlohmann::json j = {{"rect", {a.x, a.y, z.x, z.y}}, {"title_h", kTitleH * zoom_}};
    if (auto it = plan_.find(b.id); it != plan_.end()) j["plan"] = it->second ? "run" : "cached";
    if (const graph::NodeStats* st = runner_->stats(b.id))
    {
      j["stats"] = {{"ms", st->ms}, {"bytes", st->bytes}, {"cached", st->cached}, {"outputs", st->output_summaries}};
      if (st->gpu_ms) j["stats"]["gpu_ms"] = *st->gpu_ms;
      if (st->peak_bytes) j["stats"]["peak_bytes"] = *st->peak_bytes;
    }
    nodes[b.id] = j;
  }
  ImVec2 m = ImGui::GetIO().MousePos;
  return {{"nodes", nodes},         {"zoom", zoom_},           {"link_tooltip", link_tip_}, {"link_thumbnail", link_thumb_},
          {"link_stats", link_stats_}, {"inspections", runner_->inspector().computed()},
          {"plan_error", plan_error_}, {"recent", recent_},     {"mouse", {m.x, m.y}},
          {"help_open", show_help_},   {"frame_height", ImGui::GetFrameHeight()}, {"font_scale", ImGui::GetIO().FontGlobalScale}};
}

std::filesystem::path recent_file() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::filesystem::path(x) / "vkflow" / "recent.json";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".config" / "vkflow" / "recent.json";
  return {};
}

void App::load_recent() {
  recent_.clear();
  auto f = recent_file();
  if (f.empty()) return;
  std::ifstream in(f);
  if (!in) return;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("recent") || !j["recent"].is_array()) return;  // unreadable: start afresh
  for (auto& e : j["recent"])
    if (e.is_string() && recent_.size() < 10) recent_.push_back(e.get<std::string>());
}

void App::remember(const std::filesystem::path& file) {
  std::string p = std::filesystem::absolute(file).lexically_normal().string();
  recent_.erase(std::remove(recent_.begin(), recent_.end(), p), recent_.end());
  recent_.insert(recent_.begin(), p);
  if (recent_.size() > 10) recent_.resize(10);
  auto f = recent_file();
  if (f.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(f.parent_path(), ec);
  std::filesystem::path tmp = f;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << nlohmann::json{{"recent", recent_}}.dump(2) << "\n";
    if (!out) return (void)std::filesystem::remove(tmp, ec);  // a read-only config folder is not an error
  }
  std::filesystem::rename(tmp, f, ec);
}

}  // namespace vkf::editor
