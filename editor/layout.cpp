// Node geometry (rows of sockets and widgets), auto-layout, socket colours, image drawing, fuzzy match.
#include <algorithm>
#include <cctype>
#include <functional>

#include "editor/app.h"

namespace vkf::editor {

namespace {
constexpr float kTitleH = 26, kRowH = 22, kDefaultW = 240, kImageH = 200;
}

ImU32 type_color(const std::string& type) {
  static const std::map<std::string, ImU32> known = {
      {"MODEL", IM_COL32(0xB3, 0x9D, 0xDB, 255)},        {"CLIP", IM_COL32(0xFF, 0xD5, 0x00, 255)},
      {"VAE", IM_COL32(0xFF, 0x6E, 0x6E, 255)},          {"CONDITIONING", IM_COL32(0xFF, 0xA9, 0x31, 255)},
      {"LATENT", IM_COL32(0xFF, 0x9C, 0xF9, 255)},       {"IMAGE", IM_COL32(0x64, 0xB5, 0xF6, 255)},
      {"MASK", IM_COL32(0x81, 0xC7, 0x84, 255)},         {"INT", IM_COL32(0x29, 0x69, 0x9C, 255)},
      {"FLOAT", IM_COL32(0x4C, 0xAF, 0x50, 255)},        {"STRING", IM_COL32(0x9E, 0x9E, 0x9E, 255)},
      {"BOOLEAN", IM_COL32(0xBB, 0x86, 0xFC, 255)},      {"COMBO", IM_COL32(0x9E, 0x9E, 0x9E, 255)},
      {"SIGMAS", IM_COL32(0xCD, 0xFF, 0xCD, 255)},       {"NOISE", IM_COL32(0xB0, 0xB0, 0xB0, 255)},
      {"SAMPLER", IM_COL32(0xEC, 0xB4, 0xB4, 255)},      {"GUIDER", IM_COL32(0x66, 0xFF, 0xFF, 255)},
      {"CLIP_VISION", IM_COL32(0xA8, 0xDA, 0xDC, 255)},  {"CONTROL_NET", IM_COL32(0x00, 0xD7, 0x8D, 255)},
  };
  if (auto it = known.find(type); it != known.end()) return it->second;
  size_t h = std::hash<std::string>{}(type);
  return IM_COL32(110 + h % 130, 110 + (h >> 8) % 130, 110 + (h >> 16) % 130, 255);
}

void layout_missing_positions(graph::Graph& g) {
  bool any_missing = false;
  for (auto& n : g.nodes()) {
    auto m = n.entry.find("_meta");
    if (m == n.entry.end() || !m->is_object() || !m->contains("pos")) any_missing = true;
  }
  if (!any_missing) return;
  // Depth = longest chain of links from a source; columns by depth, rows in id order.
  std::map<std::string, int> depth;
  std::function<int(const std::string&, int)> dfs = [&](const std::string& id, int guard) -> int {
    if (auto it = depth.find(id); it != depth.end()) return it->second;
    const graph::Node* n = g.find(id);
    if (!n || guard > 256) return 0;
    int d = 0;
    for (auto& [k, v] : n->inputs().items())
      if (auto l = graph::parse_link(v)) d = std::max(d, 1 + dfs(l->node, guard + 1));
    return depth[id] = d;
  };
  std::map<int, float> col_y;
  for (auto& n : g.nodes()) {
    int d = dfs(n.id, 0);
    auto m = n.entry.find("_meta");
    if (m != n.entry.end() && m->is_object() && m->contains("pos")) continue;
    nlohmann::json e = n.entry;
    float y = col_y[d];
    e["_meta"]["pos"] = {40.0f + d * 300.0f, 40.0f + y};
    const graph::NodeDef* def = graph::Registry::instance().find(n.class_type);
    float rows = 1;  // as relayout() counts them: link inputs beside outputs, then widget rows
    if (def) {
      size_t links = 0;
      float widgets = 0;
      for (auto& in : def->inputs())
        if (in.is_widget()) widgets += in.type == graph::kString && in.multiline ? 4 : 1;
        else ++links;
      rows = float(std::max(links, def->outputs().size())) + widgets;
    }
    col_y[d] = y + kTitleH + kRowH * rows + 40;
    g.put_node(n.id, std::move(e));
  }
}

void App::relayout() {
  if (laid_out_rev_ == ed_->revision() && laid_out_epoch_ == runner_->epoch()) return;
  laid_out_rev_ = ed_->revision(), laid_out_epoch_ = runner_->epoch();
  boxes_.clear();
  box_index_.clear();
  for (auto& n : ed_->graph().nodes()) {
    NodeBox b;
    b.id = n.id, b.class_type = n.class_type;
    b.def = ed_->registry().find(n.class_type);
    b.title = n.title().empty() ? (b.def ? b.def->display_name() : n.class_type) : n.title();
    auto [x, y] = graph::GraphEditor::pos(n);
    auto [w, h] = graph::GraphEditor::size(n);
    b.pos = {x, y};
    float width = std::max(w, kDefaultW);
    const auto& ins = n.inputs();
    float row = 0;
    if (b.def) {
      std::vector<Slot> links, widgets;
      for (auto& in : b.def->inputs()) {
        Slot s{in.name, in.type};
        auto it = ins.find(in.name);
        s.linked = it != ins.end() && graph::is_link(*it);
        s.widget = in.is_widget();
        if (s.widget && !s.linked && in.type == graph::kString && in.multiline) s.rows = 4;
        (s.widget && !s.linked ? widgets : links).push_back(s);
      }
      for (size_t i = 0; i < b.def->outputs().size(); ++i) {
        auto& o = b.def->outputs()[i];
        b.outs.push_back(Slot{o.name, o.type, kTitleH + kRowH * (float(i) + 0.5f)});
      }
      for (size_t i = 0; i < links.size(); ++i) links[i].y = kTitleH + kRowH * (float(i) + 0.5f);
      row = float(std::max(links.size(), b.def->outputs().size()));
      for (auto& s : widgets) {
        s.y = kTitleH + kRowH * (row + 0.5f);
        row += s.rows;
      }
      b.ins = links;
      b.ins.insert(b.ins.end(), widgets.begin(), widgets.end());
    } else {
      row = 1;
    }
    float height = kTitleH + kRowH * row + 6;
    b.image_top = height;
    if (const NodeRunState* st = runner_->node(n.id); st && (st->image || st->preview)) height += kImageH;
    b.size = {width, std::max(h, height)};
    box_index_[b.id] = boxes_.size();
    boxes_.push_back(std::move(b));
  }
}

const NodeBox* App::box(const std::string& id) {
  relayout();
  auto it = box_index_.find(id);
  return it == box_index_.end() ? nullptr : &boxes_[it->second];
}

std::optional<ImVec2> App::socket_screen(const std::string& id, bool output, const std::string& name_or_index) {
  const NodeBox* b = box(id);
  if (!b) return std::nullopt;
  const auto& slots = output ? b->outs : b->ins;
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].name == name_or_index || (output && std::to_string(i) == name_or_index))
      return to_screen({b->pos.x + (output ? b->size.x : 0), b->pos.y + slots[i].y});
  return std::nullopt;
}

void draw_image(ImDrawList* dl, const Image& img, ImVec2 p0, ImVec2 p1) {
  if (img.width <= 0 || img.height <= 0) return;
  // Fit, keeping the aspect ratio.
  float bw = p1.x - p0.x, bh = p1.y - p0.y;
  float s = std::min(bw / float(img.width), bh / float(img.height));
  float w = img.width * s, h = img.height * s;
  ImVec2 o{p0.x + (bw - w) / 2, p0.y + (bh - h) / 2};
  int cw = std::min(img.width, std::max(1, int(std::min(w, 128.f)))), ch = std::min(img.height, std::max(1, int(std::min(h, 128.f))));
  dl->PrimReserve(cw * ch * 6, cw * ch * 4);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      int sx = x * img.width / cw, sy = y * img.height / ch;
      const uint8_t* p = &img.rgb[(size_t(sy) * img.width + sx) * 3];
      dl->PrimRect({o.x + w * x / cw, o.y + h * y / ch}, {o.x + w * (x + 1) / cw, o.y + h * (y + 1) / ch},
                   IM_COL32(p[0], p[1], p[2], 255));
    }
}

int fuzzy_score(const std::string& pattern, const std::string& text) {
  if (pattern.empty()) return 0;
  int score = 0, run = 0;
  size_t j = 0;
  for (size_t i = 0; i < text.size() && j < pattern.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) == std::tolower(static_cast<unsigned char>(pattern[j]))) {
      ++j, ++run;
      score += 1 + run * 2 + (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])) ? 5 : 0);
    } else {
      run = 0;
    }
  }
  if (j < pattern.size()) return -1;
  return score * 100 / int(text.size() + 10);
}

}  // namespace vkf::editor
