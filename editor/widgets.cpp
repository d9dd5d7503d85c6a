// Inline widgets on the nodes: INT/FLOAT drags with the schema's min/max/step, combos (sampler,
// scheduler, checkpoint files, any COMBO), single- and multi-line text, booleans. A drag or a typing
// session is one undo step: it opens an editor transaction on activation and closes it on release.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "editor/app.h"

namespace vkf::editor {
namespace {

constexpr float kRowH = 22;

double num(const nlohmann::json& j, double def) { return j.is_number() ? j.get<double>() : def; }

}  // namespace

void App::node_widgets(const NodeBox& b, const graph::Node& n) {
  ImGui::PushID(b.id.c_str());
  ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, {4 * zoom_, 2 * zoom_});
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, {4 * zoom_, 2 * zoom_});
  const float w = (b.size.x - 24) * zoom_;
  for (auto& s : b.ins) {
    if (!s.widget || s.linked) continue;
    const graph::InputSpec* spec = b.def->find_input(s.name);
    if (!spec) continue;
    ImGui::PushID(s.name.c_str());
    ImVec2 p = to_screen({b.pos.x + 12, b.pos.y + s.y - kRowH / 2 + 2});
    ImGui::SetCursorScreenPos(p);
    const nlohmann::json& cur = n.inputs().contains(s.name) ? n.inputs()[s.name] : spec->default_value;
    auto begin_edit = [&] {
      if (ImGui::IsItemActivated() && !edit_open_) ed_->begin("Set " + s.name), edit_open_ = true;
    };
    auto end_edit = [&] {
      if (ImGui::IsItemDeactivated() && edit_open_) ed_->commit(), edit_open_ = false;
    };
    ImGui::SetNextItemWidth(w);
    if (spec->type == graph::kInt) {
      // Seeds span 0..2^64-1: unsigned when the range needs it.
      bool u64 = spec->max.is_number_unsigned() && spec->max.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max());
      double step = std::max(1.0, num(spec->step, 1));
      std::string fmt = s.name + " %lld";
      if (u64) {
        uint64_t v = cur.is_number() ? cur.get<uint64_t>() : 0, lo = spec->min.is_number() ? spec->min.get<uint64_t>() : 0,
                 hi = spec->max.get<uint64_t>();
        std::string f = s.name + " %llu";
        bool ch = ImGui::DragScalar("##v", ImGuiDataType_U64, &v, float(step), &lo, &hi, f.c_str());
        begin_edit();
        if (ch) ed_->set_input(b.id, s.name, v);
      } else {
        int64_t v = cur.is_number() ? cur.get<int64_t>() : 0;
        int64_t lo = spec->min.is_number() ? spec->min.get<int64_t>() : std::numeric_limits<int64_t>::min() / 2;
        int64_t hi = spec->max.is_number() ? spec->max.get<int64_t>() : std::numeric_limits<int64_t>::max() / 2;
        bool ch = ImGui::DragScalar("##v", ImGuiDataType_S64, &v, float(step) * 0.25f, &lo, &hi, fmt.c_str());
        begin_edit();
        if (ch) {
          if (step > 1) v = lo + int64_t(std::llround(double(v - lo) / step) * step);  // stay on the grid
          ed_->set_input(b.id, s.name, std::clamp(v, lo, hi));
        }
      }
      end_edit();
    } else if (spec->type == graph::kFloat) {
      double v = num(cur, 0), lo = num(spec->min, -1e9), hi = num(spec->max, 1e9), step = num(spec->step, 0.01);
      int decimals = std::clamp(int(std::ceil(-std::log10(std::max(step, 1e-6)) - 1e-9)), 0, 6);
      std::string fmt = s.name + " %." + std::to_string(decimals) + "f";
      bool ch = ImGui::DragScalar("##v", ImGuiDataType_Double, &v, float(step), &lo, &hi, fmt.c_str());
      begin_edit();
      if (ch) ed_->set_input(b.id, s.name, std::clamp(v, lo, hi));
      end_edit();
    } else if (spec->type == graph::kBoolean) {
      bool v = cur.is_boolean() && cur.get<bool>();
      if (ImGui::Checkbox(s.name.c_str(), &v)) ed_->set_input(b.id, s.name, v);
    } else if (spec->type == graph::kCombo) {
      std::string v = cur.is_string() ? cur.get<std::string>() : "";
      std::string preview = s.name + ": " + v;
      if (ImGui::BeginCombo("##v", preview.c_str(), ImGuiComboFlags_HeightLarge)) {
        for (auto& o : spec->combo_options(paths_))
          if (ImGui::Selectable(o.c_str(), o == v) && o != v) ed_->set_input(b.id, s.name, o);
        ImGui::EndCombo();
      }
    } else if (spec->type == graph::kString) {
      std::string v = cur.is_string() ? cur.get<std::string>() : "";
      bool ch = spec->multiline ? ImGui::InputTextMultiline("##v", &v, {w, (s.rows * kRowH - 4) * zoom_})
                                : ImGui::InputTextWithHint("##v", s.name.c_str(), &v);
      begin_edit();
      if (ch) ed_->set_input(b.id, s.name, v);
      end_edit();
    }
    if (ImGui::IsItemHovered() && !spec->tooltip.empty()) ImGui::SetTooltip("%s", spec->tooltip.c_str());
    ImGui::PopID();
  }
  ImGui::PopStyleVar(2);
  ImGui::PopID();
}

}  // namespace vkf::editor
