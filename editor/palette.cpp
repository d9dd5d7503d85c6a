// The node palette: every registered class by category, fuzzy search over "category / name / class",
// opened by double-click, Space or Tab, or by dropping a dragged link on empty canvas (then only classes
// with a socket that fits the link are listed, and the new node is wired to it).
#include <algorithm>

#include "editor/app.h"

namespace vkf::editor {
namespace {

// The first socket of `def` a link of `type` fits (an input when the link comes from an output).
int fitting_socket(const graph::NodeDef& def, const LinkDrag& l) {
  if (l.from_output) {
    for (size_t i = 0; i < def.inputs().size(); ++i)
      if (graph::types_compatible(l.type, def.inputs()[i].type) && !def.inputs()[i].is_widget()) return int(i);
    for (size_t i = 0; i < def.inputs().size(); ++i)
      if (graph::types_compatible(l.type, def.inputs()[i].type)) return int(i);
    return -1;
  }
  for (size_t i = 0; i < def.outputs().size(); ++i)
    if (graph::types_compatible(def.outputs()[i].type, l.type)) return int(i);
  return -1;
}

}  // namespace

void App::open_palette(ImVec2 screen, std::optional<LinkDrag> link) {
  palette_.open = palette_.focus = true;
  palette_.screen = screen;
  palette_.filter[0] = 0;
  palette_.cursor = 0;
  palette_.link = std::move(link);
}

std::string App::add_node_at(const std::string& class_type, ImVec2 c, const std::optional<LinkDrag>& link) {
  ed_->begin("Add " + class_type);
  std::string id = ed_->add_node(class_type, c.x, c.y);
  if (link) {
    const graph::NodeDef& def = ed_->registry().get(class_type);
    int s = fitting_socket(def, *link);
    if (s >= 0) {
      auto r = link->from_output ? ed_->connect(link->node, link->output, id, def.inputs()[size_t(s)].name)
                                 : ed_->connect(id, s, link->node, link->input);
      if (!r) set_toast("Link refused: " + r.reason);
    }
  }
  ed_->commit();
  sel_ = {id};
  return id;
}

void App::palette_window() {
  if (!palette_.open) return;
  ImGui::SetNextWindowPos(palette_.screen, ImGuiCond_Always);
  ImGui::SetNextWindowSize({360, 420});
  bool open = true;
  ImGui::Begin("Add node", &open, ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings);
  if (palette_.focus) ImGui::SetKeyboardFocusHere(), palette_.focus = false;
  ImGui::SetNextItemWidth(-1);
  bool enter = ImGui::InputTextWithHint("##filter", "search nodes...", palette_.filter, sizeof palette_.filter,
                                        ImGuiInputTextFlags_EnterReturnsTrue);
  if (palette_.link)
    ImGui::TextDisabled("%s %s", palette_.link->from_output ? "taking" : "giving", palette_.link->type.c_str());
  // Candidates: fuzzy score over "category/display name/class", filtered by the link.
  struct Cand {
    const graph::NodeDef* def;
    int score;
  };
  std::vector<Cand> cands;
  const std::string pat = palette_.filter;
  for (auto& name : ed_->registry().names()) {
    const graph::NodeDef* def = ed_->registry().find(name);
    if (palette_.link && fitting_socket(*def, *palette_.link) < 0) continue;
    std::string hay = def->category_name() + "/" + def->display_name() + " " + def->class_type();
    int sc = pat.empty() ? 0 : std::max(fuzzy_score(pat, def->display_name()) + 20, std::max(fuzzy_score(pat, def->class_type()) + 20, fuzzy_score(pat, hay)));
    if (!pat.empty() && (fuzzy_score(pat, hay) < 0 && fuzzy_score(pat, def->class_type()) < 0 && fuzzy_score(pat, def->display_name()) < 0)) continue;
    cands.push_back({def, sc});
  }
  if (pat.empty())
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.def->category_name() < b.def->category_name(); });
  else
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) ++palette_.cursor;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) --palette_.cursor;
  palette_.cursor = std::clamp(palette_.cursor, 0, std::max(0, int(cands.size()) - 1));
  std::string chosen;
  ImGui::BeginChild("##list");
  std::string cat;
  for (size_t i = 0; i < cands.size(); ++i) {
    const auto* def = cands[i].def;
    if (pat.empty() && def->category_name() != cat) {
      cat = def->category_name();
      ImGui::TextDisabled("%s", cat.c_str());
    }
    std::string label = def->display_name() + "##" + def->class_type();
    bool cur = int(i) == palette_.cursor;
    if (ImGui::Selectable(label.c_str(), cur)) chosen = def->class_type();
    if (cur && ImGui::IsItemVisible() == false) ImGui::SetScrollHereY();
    if (ImGui::IsItemHovered() && !def->description_text().empty()) ImGui::SetTooltip("%s", def->description_text().c_str());
    if (!pat.empty()) {
      ImGui::SameLine();
      ImGui::TextDisabled("%s", def->category_name().c_str());
    }
  }
  ImGui::EndChild();
  if (enter && !cands.empty()) chosen = cands[size_t(palette_.cursor)].def->class_type();
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) open = false;
  ImGui::End();
  if (!chosen.empty()) {
    try {
      add_node_at(chosen, to_canvas(palette_.screen), palette_.link);
    } catch (const std::exception& e) {
      set_toast(e.what());
    }
    open = false;
  }
  if (!open) palette_.open = false;
}

}  // namespace vkf::editor
