// The canvas: grid, groups, links as bezier curves, nodes with typed sockets, and the mouse interaction
// (pan, zoom at the cursor, select by click / box / ctrl-click, move, link drags, group drags).
#include <algorithm>
#include <cmath>

#include "editor/app.h"

namespace vkf::editor {
namespace {

constexpr float kSocketR = 5.5f, kTitleH = 26;

bool in_rect(ImVec2 p, ImVec2 a, ImVec2 b) { return p.x >= a.x && p.y >= a.y && p.x <= b.x && p.y <= b.y; }

void bezier(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thick) {
  float dx = std::max(40.0f, std::abs(b.x - a.x) * 0.5f);
  dl->AddBezierCubic(a, {a.x + dx, a.y}, {b.x - dx, b.y}, b, col, thick);
}

}  // namespace

std::optional<App::SocketHit> App::socket_at(ImVec2 s) const {
  // The nearest socket within reach (rows are close together when zoomed out).
  float best = std::pow(std::max(9.0f, kSocketR * 1.8f * zoom_), 2.0f);
  std::optional<SocketHit> hit;
  for (auto it = boxes_.rbegin(); it != boxes_.rend(); ++it) {
    const NodeBox& b = *it;
    for (int side = 0; side < 2; ++side) {
      const auto& slots = side ? b.outs : b.ins;
      for (size_t i = 0; i < slots.size(); ++i) {
        ImVec2 p = to_screen({b.pos.x + (side ? b.size.x : 0), b.pos.y + slots[i].y});
        float dx = p.x - s.x, dy = p.y - s.y;
        if (dx * dx + dy * dy <= best) best = dx * dx + dy * dy, hit = SocketHit{b.id, side == 1, int(i), slots[i].name, slots[i].type};
      }
    }
  }
  return hit;
}

const NodeBox* App::node_at(ImVec2 s) const {
  ImVec2 c = to_canvas(s);
  for (auto it = boxes_.rbegin(); it != boxes_.rend(); ++it)
    if (in_rect(c, it->pos, {it->pos.x + it->size.x, it->pos.y + it->size.y})) return &*it;
  return nullptr;
}

int App::group_title_at(ImVec2 s) const {
  ImVec2 c = to_canvas(s);
  const auto& gs = ed_->groups();
  for (int i = int(gs.size()) - 1; i >= 0; --i) {
    const auto& bb = gs[size_t(i)].value("bounding", nlohmann::json::array());
    if (bb.size() != 4) continue;
    float x = bb[0].get<float>(), y = bb[1].get<float>(), w = bb[2].get<float>();
    if (in_rect(c, {x, y}, {x + w, y + 34})) return i;
  }
  return -1;
}

void App::zoom_at(ImVec2 screen, float factor) {
  ImVec2 before = to_canvas(screen);
  zoom_ = std::clamp(zoom_ * factor, 0.1f, 4.0f * ImGui::GetIO().FontGlobalScale);
  ImVec2 after = to_canvas(screen);  // keep the point under the cursor fixed
  pan_.x += after.x - before.x, pan_.y += after.y - before.y;
}

void App::draw_groups(ImDrawList* dl) {
  for (auto& g : ed_->groups()) {
    const auto& bb = g.value("bounding", nlohmann::json::array());
    if (bb.size() != 4 || !bb[0].is_number()) continue;
    ImVec2 a = to_screen({bb[0].get<float>(), bb[1].get<float>()});
    ImVec2 b = to_screen({bb[0].get<float>() + bb[2].get<float>(), bb[1].get<float>() + bb[3].get<float>()});
    ImU32 col = IM_COL32(0x33, 0x55, 0x88, 255);
    if (auto c = g.value("color", std::string()); c.size() == 7 && c[0] == '#') {
      unsigned v = unsigned(std::stoul(c.substr(1), nullptr, 16));
      col = IM_COL32((v >> 16) & 255, (v >> 8) & 255, v & 255, 255);
    }
    dl->AddRectFilled(a, b, (col & 0x00FFFFFF) | 0x50000000, 4 * zoom_);
    dl->AddRect(a, b, col, 4 * zoom_);
    dl->AddText(nullptr, 20 * zoom_, {a.x + 8 * zoom_, a.y + 6 * zoom_}, IM_COL32(230, 230, 230, 255),
                g.value("title", std::string("Group")).c_str());
  }
}

void App::draw_links(ImDrawList* dl) {
  ImVec2 lo = origin_, hi{origin_.x + canvas_size_.x, origin_.y + canvas_size_.y};
  for_each_link([&](const NodeBox& sb, int out, const NodeBox&, const Slot&, ImVec2 a, ImVec2 c) {
    // Cull links whose bounding box misses the view.
    if (std::max(a.x, c.x) < lo.x - 50 || std::min(a.x, c.x) > hi.x + 50 || std::max(a.y, c.y) < lo.y ||
        std::min(a.y, c.y) > hi.y)
      return;
    ImU32 col = type_color(sb.outs[size_t(out)].type);
    if (zoom_ < 0.35f) dl->AddLine(a, c, col, 2.0f);
    else bezier(dl, a, c, col, std::max(1.5f, 3.0f * zoom_));
  });
}

void App::draw_node(ImDrawList* dl, const NodeBox& b) {
  ImVec2 a = to_screen(b.pos), z = to_screen({b.pos.x + b.size.x, b.pos.y + b.size.y});
  const NodeRunState* st = runner_->node(b.id);
  bool selected = sel_.count(b.id) > 0;
  bool far = zoom_ < 0.4f;  // level of detail: square corners (no anti-aliased fringe), no idle border
  float r = far ? 0 : 6 * zoom_;
  // Title bar and body side by side rather than stacked: on lavapipe every covered pixel costs, so no
  // pixel is filled twice.
  float title_y = std::min(z.y, a.y + kTitleH * zoom_);
  ImU32 title_col = b.def ? IM_COL32(0x22, 0x22, 0x25, 255) : IM_COL32(0x90, 0x20, 0x20, 255);
  dl->AddRectFilled(a, {z.x, title_y}, title_col, r, ImDrawFlags_RoundCornersTop);
  dl->AddRectFilled({a.x, title_y}, z, IM_COL32(0x35, 0x35, 0x38, 255), r, ImDrawFlags_RoundCornersBottom);
  ImU32 border = IM_COL32(0x50, 0x50, 0x55, 255);
  float thick = 1.0f;
  if (st && st->cached) border = IM_COL32(0x60, 0x90, 0x60, 255);
  if (st && !st->error.empty()) border = IM_COL32(0xF0, 0x40, 0x40, 255), thick = 3;
  if (st && st->running) border = IM_COL32(0x40, 0xE0, 0x60, 255), thick = 3;
  if (selected) border = IM_COL32(0xFF, 0xFF, 0xFF, 255), thick = std::max(thick, 2.0f);
  if (!far || thick > 1 || (st && st->cached)) dl->AddRect(a, z, border, r, 0, thick);
  bool detail = zoom_ >= 0.4f;
  // Canvas text scales with the zoom only (the window's font scale is the zoom already, and HiDPI comes
  // in through the zoom: it starts at the UI scale).
  float fs = ImGui::GetFont()->FontSize * zoom_;
  if (zoom_ >= 0.3f)
    dl->AddText(nullptr, fs, {a.x + 8 * zoom_, a.y + (kTitleH * zoom_ - fs) / 2}, IM_COL32(235, 235, 235, 255),
                b.title.c_str());
  if (st && st->running && st->max > 0) {  // sampler progress under the title
    float f = float(st->value) / float(st->max);
    dl->AddRectFilled({a.x, a.y + kTitleH * zoom_ - 4 * zoom_}, {a.x + (z.x - a.x) * f, a.y + kTitleH * zoom_},
                      IM_COL32(0x40, 0xE0, 0x60, 255));
  }
  if (!detail) return;
  for (int side = 0; side < 2; ++side) {
    const auto& slots = side ? b.outs : b.ins;
    for (auto& s : slots) {
      ImVec2 p = to_screen({b.pos.x + (side ? b.size.x : 0), b.pos.y + s.y});
      ImU32 col = type_color(s.type);
      float rr = (s.widget && !s.linked ? 0.7f : 1.0f) * kSocketR * zoom_;
      if (s.linked || side) dl->AddCircleFilled(p, rr, col);
      else dl->AddCircle(p, rr, col, 0, 1.5f);
      if (s.widget && !s.linked) continue;  // the widget shows its own label
      std::string label = s.name;
      ImVec2 ts = ImGui::GetFont()->CalcTextSizeA(fs, 1e9f, 0, label.c_str());
      float tx = side ? p.x - 10 * zoom_ - ts.x : p.x + 10 * zoom_;
      dl->AddText(nullptr, fs, {tx, p.y - fs / 2}, IM_COL32(200, 200, 200, 255), label.c_str());
    }
  }
  if (st && (st->preview || st->image)) {
    const Image& img = (st->running || !st->image) && st->preview ? *st->preview : *st->image;
    draw_image(dl, img, {a.x + 6 * zoom_, a.y + (b.image_top + 4) * zoom_}, {z.x - 6 * zoom_, z.y - 6 * zoom_});
  }
}

void App::canvas(ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, {0, 0});
  ImGui::Begin("##canvas", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoScrollWithMouse |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBackground);
  ImGui::PopStyleVar();
  origin_ = pos, canvas_size_ = size;
  relayout();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImVec2 hi{pos.x + size.x, pos.y + size.y};
  // No background quad: the render pass clears to the canvas colour (VkWindow), and on lavapipe every
  // full-window layer costs milliseconds of texture-sampled blending.
  float step = 32 * zoom_;
  if (step >= 8) {
    float ox = std::fmod(pan_.x * zoom_, step), oy = std::fmod(pan_.y * zoom_, step);
    // 1-px rectangles (PrimRect: no anti-aliasing fringe, half the pixels of an AddLine).
    ImU32 col = IM_COL32(0x2A, 0x2A, 0x2E, 255);
    int nx = int((hi.x - pos.x - ox) / step) + 1, ny = int((hi.y - pos.y - oy) / step) + 1;
    dl->PrimReserve((nx + ny) * 6, (nx + ny) * 4);
    for (int i = 0; i < nx; ++i) {
      float x = std::floor(pos.x + ox + float(i) * step);
      dl->PrimRect({x, pos.y}, {x + 1, hi.y}, col);
    }
    for (int i = 0; i < ny; ++i) {
      float y = std::floor(pos.y + oy + float(i) * step);
      dl->PrimRect({pos.x, y}, {hi.x, y + 1}, col);
    }
  }
  draw_groups(dl);
  draw_links(dl);
  link_hover(dl);
  if (drag_ == DragKind::Link) {
    ImVec2 m = ImGui::GetIO().MousePos;
    std::optional<ImVec2> fixed = link_.from_output ? socket_screen(link_.node, true, std::to_string(link_.output))
                                                    : socket_screen(link_.node, false, link_.input);
    if (fixed) {
      if (link_.from_output) bezier(dl, *fixed, m, type_color(link_.type), 3 * zoom_);
      else bezier(dl, m, *fixed, type_color(link_.type), 3 * zoom_);
    }
  }
  bool widgets = zoom_ >= 0.5f;
  ImGui::SetWindowFontScale(zoom_ / ImGui::GetIO().FontGlobalScale);  // widgets: font size = base * zoom
  for (auto& b : boxes_) {
    ImVec2 a = to_screen(b.pos), z = to_screen({b.pos.x + b.size.x, b.pos.y + b.size.y});
    if (z.x < pos.x || z.y < pos.y || a.x > hi.x || a.y > hi.y) continue;  // culled
    draw_node(dl, b);
    draw_overlay(dl, b);
    if (widgets && b.def)
      if (const graph::Node* n = ed_->graph().find(b.id)) node_widgets(b, *n);
  }
  ImGui::SetWindowFontScale(1.0f);
  if (drag_ == DragKind::Box) {
    ImVec2 m = ImGui::GetIO().MousePos;
    dl->AddRectFilled(drag_start_, m, IM_COL32(0x60, 0x90, 0xF0, 0x30));
    dl->AddRect(drag_start_, m, IM_COL32(0x60, 0x90, 0xF0, 0xC0));
  }
  // Error texts next to failing nodes.
  for (auto& [id, st] : runner_->nodes())
    if (!st.error.empty())
      if (auto it = box_index_.find(id); it != box_index_.end()) {
        const NodeBox& b = boxes_[it->second];
        ImVec2 p = to_screen({b.pos.x, b.pos.y + b.size.y + 4});
        dl->AddText(nullptr, ImGui::GetFontSize(), p, IM_COL32(0xFF, 0x70, 0x70, 255), st.error.c_str());
      }
  if (!toast_.empty() && ImGui::GetTime() - toast_time_ < 4.0)
    dl->AddText({toast_pos_.x + 14, toast_pos_.y + 14}, IM_COL32(0xFF, 0xB0, 0x50, 255), toast_.c_str());
  bool hovered = ImGui::IsWindowHovered();
  canvas_input(hovered);
  ImGui::End();
}

void App::canvas_input(bool hovered) {
  ImGuiIO& io = ImGui::GetIO();
  ImVec2 m = io.MousePos;
  bool on_item = ImGui::IsAnyItemHovered() || ImGui::IsAnyItemActive();
  if (hovered && io.MouseWheel != 0 && !on_item) zoom_at(m, std::pow(1.1f, io.MouseWheel));
  if (hovered && (ImGui::IsMouseClicked(ImGuiMouseButton_Middle))) drag_ = DragKind::Pan, drag_last_ = m;
  if (hovered && !on_item && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left) && !node_at(m)) {
    drag_ = DragKind::None;
    open_palette(m);
    return;
  }
  if (hovered && !on_item && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
    drag_start_ = drag_last_ = m;
    if (auto s = socket_at(m)) {
      const graph::Node* n = ed_->graph().find(s->node);
      if (s->output) {
        link_ = LinkDrag{true, s->node, s->index, "", s->type};
      } else if (auto it = n ? n->inputs().find(s->name) : nlohmann::json::const_iterator{};
                 n && it != n->inputs().end() && graph::parse_link(*it)) {
        // Dragging a connected input picks the link up from its source.
        auto l = *graph::parse_link(*it);
        const NodeBox* sb = box(l.node);
        std::string t = sb && size_t(l.output) < sb->outs.size() ? sb->outs[size_t(l.output)].type : s->type;
        ed_->disconnect(s->node, s->name);
        link_ = LinkDrag{true, l.node, l.output, "", t};
      } else {
        link_ = LinkDrag{false, s->node, 0, s->name, s->type};
      }
      drag_ = DragKind::Link;
    } else if (int g = group_title_at(m); g >= 0 && !node_at(m)) {
      drag_ = DragKind::Group, drag_group_ = g, drag_moved_ = {0, 0};
      group_nodes_.clear();
      const auto& bb = ed_->groups()[size_t(g)]["bounding"];
      float x = bb[0].get<float>(), y = bb[1].get<float>(), w = bb[2].get<float>(), h = bb[3].get<float>();
      for (auto& b : boxes_)
        if (b.pos.x >= x && b.pos.y >= y && b.pos.x + b.size.x <= x + w && b.pos.y + b.size.y <= y + h)
          group_nodes_.push_back(b.id);
    } else if (const NodeBox* b = node_at(m)) {
      if (io.KeyCtrl || io.KeyShift) {
        if (!sel_.erase(b->id)) sel_.insert(b->id);
      } else if (!sel_.count(b->id)) {
        sel_ = {b->id};
      }
      drag_ = DragKind::Nodes, drag_moved_ = {0, 0};
    } else if (io.KeyCtrl || io.KeyShift) {
      drag_ = DragKind::Box;
    } else {
      sel_.clear();
      drag_ = DragKind::Pan;
    }
  }
  if (hovered && !on_item && ImGui::IsMouseClicked(ImGuiMouseButton_Right)) {
    if (const NodeBox* b = node_at(m); b && !sel_.count(b->id)) sel_ = {b->id};
    ImGui::OpenPopup("##ctx");
    toast_pos_ = m;
  }
  if (ImGui::BeginPopup("##ctx")) {
    if (!sel_.empty()) {
      if (ImGui::MenuItem("Delete", "Del")) delete_selection();
      if (ImGui::MenuItem("Duplicate", "Ctrl+D")) duplicate_selection();
      if (ImGui::MenuItem("Copy", "Ctrl+C")) copy_selection();
      if (ImGui::MenuItem("Group selection", "Ctrl+G")) group_selection();
    }
    if (ImGui::MenuItem("Add node...", "Space")) open_palette(toast_pos_);
    if (ImGui::MenuItem("Paste", "Ctrl+V")) paste_at(to_canvas(toast_pos_));
    ImGui::EndPopup();
  }

  ImVec2 d{m.x - drag_last_.x, m.y - drag_last_.y};
  switch (drag_) {
    case DragKind::Pan:
      pan_.x += d.x / zoom_, pan_.y += d.y / zoom_;
      if (!ImGui::IsMouseDown(ImGuiMouseButton_Left) && !ImGui::IsMouseDown(ImGuiMouseButton_Middle)) drag_ = DragKind::None;
      break;
    case DragKind::Nodes:
    case DragKind::Group: {
      // Moves are applied live inside one open transaction so the whole drag is one undo step.
      if (d.x != 0 || d.y != 0) {
        if (drag_moved_.x == 0 && drag_moved_.y == 0) ed_->begin("Move");
        std::vector<std::string> ids = drag_ == DragKind::Nodes ? std::vector<std::string>(sel_.begin(), sel_.end()) : group_nodes_;
        ed_->move_nodes(ids, d.x / zoom_, d.y / zoom_);
        if (drag_ == DragKind::Group) {
          nlohmann::json gs = ed_->groups();
          auto& bb = gs[size_t(drag_group_)]["bounding"];
          bb[0] = bb[0].get<float>() + d.x / zoom_, bb[1] = bb[1].get<float>() + d.y / zoom_;
          ed_->set_groups(gs);
        }
        drag_moved_.x += d.x, drag_moved_.y += d.y;
      }
      if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        if (drag_moved_.x != 0 || drag_moved_.y != 0) ed_->commit();
        drag_ = DragKind::None;
      }
      break;
    }
    case DragKind::Box:
      if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        ImVec2 a = to_canvas({std::min(drag_start_.x, m.x), std::min(drag_start_.y, m.y)});
        ImVec2 b = to_canvas({std::max(drag_start_.x, m.x), std::max(drag_start_.y, m.y)});
        for (auto& bx : boxes_)
          if (bx.pos.x < b.x && bx.pos.y < b.y && bx.pos.x + bx.size.x > a.x && bx.pos.y + bx.size.y > a.y)
            sel_.insert(bx.id);
        drag_ = DragKind::None;
      }
      break;
    case DragKind::Link:
      if (auto s = socket_at(m); s && s->output != link_.from_output) {  // say now whether it would fit
        auto c = link_.from_output ? ed_->can_connect(link_.node, link_.output, s->node, s->name)
                                   : ed_->can_connect(s->node, s->index, link_.node, link_.input);
        ImGui::SetTooltip("%s", c ? ("connect to " + s->name).c_str() : c.reason.c_str());
      }
      if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        drag_ = DragKind::None;
        finish_link_drag(m);
      }
      break;
    default: break;
  }
  drag_last_ = m;
}

void App::finish_link_drag(ImVec2 m) {
  if (auto s = socket_at(m)) {
    if (s->output == link_.from_output) return;
    auto c = link_.from_output ? ed_->connect(link_.node, link_.output, s->node, s->name)
                               : ed_->connect(s->node, s->index, link_.node, link_.input);
    if (!c) {
      toast_pos_ = m;
      set_toast("Link refused: " + c.reason);
    }
    return;
  }
  if (!node_at(m)) open_palette(m, link_);  // dropped on empty canvas: add a node that fits
}

}  // namespace vkf::editor
