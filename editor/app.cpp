// The editor's frame: menu bar, canvas, run panel, dialogs; file open/save; the edit actions that menus,
// keyboard shortcuts and the script share.
#include "editor/app.h"

#include <algorithm>
#include <fstream>

#include "engine/graph/workflow.h"

namespace vkf::editor {

App::App(graph::RunEnv env) : paths_(env.paths) {
  if (ImGui::GetCurrentContext()) zoom_ = ImGui::GetIO().FontGlobalScale;  // HiDPI: the canvas at the UI scale
  runner_ = std::make_unique<Runner>(std::move(env));
  new_graph();
  load_recent();
}

void App::set_toast(std::string msg) {
  toast_ = std::move(msg);
  toast_time_ = ImGui::GetCurrentContext() ? ImGui::GetTime() : 0;
  if (ImGui::GetCurrentContext() && toast_pos_.x == 0 && toast_pos_.y == 0) toast_pos_ = ImGui::GetIO().MousePos;
  std::fprintf(stderr, "vkflow-editor: %s\n", toast_.c_str());
}

void App::new_graph() {
  ed_ = std::make_unique<graph::GraphEditor>();
  file_.clear();
  sel_.clear();
  laid_out_rev_ = UINT64_MAX;
}

void App::open(const std::filesystem::path& file) {
  graph::Graph g = graph::load_graph_file(file, graph::PngPrefer::Workflow);
  nlohmann::json groups = graph::workflow_groups(g);
  // A UI workflow (or a PNG's workflow chunk) saves back as one; an API graph as API JSON.
  format_ = g.extra_pnginfo().is_object() && g.extra_pnginfo().contains("workflow") ? "workflow" : "api";
  if (file.extension() == ".png" || file.extension() == ".PNG") format_ = "workflow";
  // The editor keeps the prompt; the workflow is rebuilt from the current graph on save and run.
  graph::Graph flat = graph::Graph::from_json(g.prompt());
  layout_missing_positions(flat);
  ed_ = std::make_unique<graph::GraphEditor>(std::move(flat));
  ed_->load_groups(groups);
  ed_->mark_saved();
  file_ = file;
  if (file.extension() == ".png" || file.extension() == ".PNG") file_.replace_extension(".json");
  sel_.clear();
  laid_out_rev_ = UINT64_MAX;
  remember(file);
  fit_view();
}

void App::save(const std::filesystem::path& file, const std::string& format) {
  std::string f = format;
  if (f.empty()) f = format_;
  nlohmann::json doc = f == "workflow" ? graph::workflow_from_graph(ed_->graph(), ed_->groups()) : ed_->graph().prompt();
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << doc.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + file.string());
  }
  std::filesystem::rename(tmp, file);
  ed_->mark_saved();
  file_ = file;
  format_ = f;
  remember(file);
  set_toast("Saved " + file.string() + " (" + (f == "workflow" ? "UI workflow" : "API") + ")");
}

graph::Graph App::run_graph() const {
  nlohmann::json wf = graph::workflow_from_graph(ed_->graph(), ed_->groups());
  return graph::Graph::from_json({{"prompt", ed_->graph().prompt()}, {"extra_data", {{"extra_pnginfo", {{"workflow", wf}}}}}});
}

void App::queue_run() { runner_->queue(run_graph()); }

void App::delete_selection() {
  if (sel_.empty()) return;
  ed_->remove_nodes({sel_.begin(), sel_.end()});
  sel_.clear();
}

void App::copy_selection() {
  if (sel_.empty()) return;
  clipboard_ = ed_->copy({sel_.begin(), sel_.end()});
  ImGui::SetClipboardText(clipboard_.dump().c_str());
}

void App::paste_at(ImVec2 c) {
  nlohmann::json clip = clipboard_;
  if (const char* t = ImGui::GetClipboardText(); t && *t) {  // another editor's copy (API-format nodes)
    auto j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_object() && !j.empty() && j.begin()->is_object() && j.begin()->contains("class_type")) clip = j;
  }
  if (!clip.is_object() || clip.empty()) return;
  float mx = 1e30f, my = 1e30f;  // the clip's top-left lands at the cursor
  for (auto& [id, e] : clip.items()) {
    auto p = e.value("_meta", nlohmann::json::object()).value("pos", nlohmann::json::array());
    if (p.size() == 2 && p[0].is_number()) mx = std::min(mx, p[0].get<float>()), my = std::min(my, p[1].get<float>());
  }
  if (mx > 1e29f) mx = my = 0;
  auto made = ed_->paste(clip, c.x - mx, c.y - my);
  sel_ = {made.begin(), made.end()};
}

void App::duplicate_selection() {
  if (sel_.empty()) return;
  auto made = ed_->paste(ed_->copy({sel_.begin(), sel_.end()}), 30, 30);
  sel_ = {made.begin(), made.end()};
}

void App::select_all() {
  sel_.clear();
  for (auto& n : ed_->graph().nodes()) sel_.insert(n.id);
}

void App::group_selection() {
  relayout();
  if (sel_.empty()) return;
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (auto& id : sel_)
    if (const NodeBox* b = box(id))
      x0 = std::min(x0, b->pos.x), y0 = std::min(y0, b->pos.y), x1 = std::max(x1, b->pos.x + b->size.x),
      y1 = std::max(y1, b->pos.y + b->size.y);
  nlohmann::json gs = ed_->groups();
  gs.push_back({{"title", "Group"}, {"bounding", {x0 - 10, y0 - 44, x1 - x0 + 20, y1 - y0 + 54}}, {"color", "#3f789e"}});
  ed_->set_groups(gs);
}

void App::fit_view() {
  relayout();
  if (boxes_.empty() || canvas_size_.x <= 0) {
    pan_ = {40, 40}, zoom_ = ImGui::GetIO().FontGlobalScale;
    return;
  }
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (auto& b : boxes_)
    x0 = std::min(x0, b.pos.x), y0 = std::min(y0, b.pos.y), x1 = std::max(x1, b.pos.x + b.size.x),
    y1 = std::max(y1, b.pos.y + b.size.y);
  zoom_ = std::clamp(std::min(canvas_size_.x / (x1 - x0 + 80), canvas_size_.y / (y1 - y0 + 80)), 0.1f, ImGui::GetIO().FontGlobalScale);
  pan_ = {-x0 + 40 / zoom_, -y0 + 40 / zoom_};
}

void App::shortcuts() {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;  // typing in a widget
  auto key = [](int k) { return ImGui::IsKeyPressed(k, false); };
  ImVec2 m = io.MousePos;
  if (io.KeyCtrl) {
    if (key('Z') && !io.KeyShift) ed_->undo();
    if (key('Y') || (key('Z') && io.KeyShift)) ed_->redo();
    if (key('C')) copy_selection();
    if (key('X')) copy_selection(), delete_selection();
    if (key('V')) paste_at(to_canvas(m));
    if (key('D')) duplicate_selection();
    if (key('A')) select_all();
    if (key('G')) group_selection();
    if (key('S')) {
      if (file_.empty() || io.KeyShift) dialog_ = {true, true, "", ""};
      else try { save(file_); } catch (const std::exception& e) { set_toast(e.what()); }
    }
    if (key('O')) dialog_ = {true, false, "", ""};
    if (key(ImGui::GetKeyIndex(ImGuiKey_Enter))) queue_run();
    return;
  }
  if (key(ImGui::GetKeyIndex(ImGuiKey_Delete)) || key(ImGui::GetKeyIndex(ImGuiKey_Backspace))) delete_selection();
  if ((key(ImGui::GetKeyIndex(ImGuiKey_Space)) || key(ImGui::GetKeyIndex(ImGuiKey_Tab))) && !palette_.open)
    open_palette(m);
  if (key(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
    if (runner_->busy()) runner_->cancel();
    sel_.clear();
  }
  if (key(ImGui::GetKeyIndex(ImGuiKey_Home)) || key('F')) fit_view();
  if (key(290 /* GLFW_KEY_F1 */)) show_help_ = !show_help_;
}

void App::menu_bar() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("New")) new_graph();
    if (ImGui::MenuItem("Open...", "Ctrl+O")) dialog_ = {true, false, "", ""};
    if (ImGui::BeginMenu("Open recent", !recent_.empty())) {
      for (auto& r : recent_)
        if (ImGui::MenuItem(r.c_str())) try { open(r); } catch (const std::exception& e) { set_toast(e.what()); }
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Save", "Ctrl+S", false, !file_.empty())) try { save(file_); } catch (const std::exception& e) { set_toast(e.what()); }
    if (ImGui::MenuItem("Save API JSON...")) dialog_ = {true, true, "", "api"};
    if (ImGui::MenuItem("Save UI workflow...")) dialog_ = {true, true, "", "workflow"};
    ImGui::Separator();
    if (ImGui::MenuItem("Quit")) quit_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Edit")) {
    std::string u = "Undo " + ed_->undo_label();
    if (ImGui::MenuItem(u.c_str(), "Ctrl+Z", false, ed_->can_undo())) ed_->undo();
    if (ImGui::MenuItem("Redo", "Ctrl+Y", false, ed_->can_redo())) ed_->redo();
    ImGui::Separator();
    if (ImGui::MenuItem("Add node...", "Space")) open_palette({origin_.x + canvas_size_.x / 2, origin_.y + canvas_size_.y / 3});
    if (ImGui::MenuItem("Copy", "Ctrl+C", false, !sel_.empty())) copy_selection();
    if (ImGui::MenuItem("Paste", "Ctrl+V")) paste_at(to_canvas({origin_.x + 100, origin_.y + 100}));
    if (ImGui::MenuItem("Duplicate", "Ctrl+D", false, !sel_.empty())) duplicate_selection();
    if (ImGui::MenuItem("Delete", "Del", false, !sel_.empty())) delete_selection();
    if (ImGui::MenuItem("Select all", "Ctrl+A")) select_all();
    if (ImGui::MenuItem("Group selection", "Ctrl+G", false, !sel_.empty())) group_selection();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("Fit graph", "F")) fit_view();
    if (ImGui::MenuItem("Reset zoom")) zoom_at({origin_.x + canvas_size_.x / 2, origin_.y + canvas_size_.y / 2}, ImGui::GetIO().FontGlobalScale / zoom_);
    if (ImGui::MenuItem("Shortcuts", "F1")) show_help_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::MenuItem("Queue")) queue_run();
  if (runner_->busy() && ImGui::MenuItem("Cancel")) runner_->cancel();
  std::string title = (file_.empty() ? std::string("untitled") : file_.filename().string()) + (ed_->dirty() ? " *" : "");
  ImGui::SameLine(ImGui::GetWindowWidth() - ImGui::CalcTextSize(title.c_str()).x - 16);
  ImGui::TextDisabled("%s", title.c_str());
  ImGui::EndMainMenuBar();
}

void App::side_panel(ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("Run", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings);
  if (ImGui::Button("Queue", {size.x * 0.45f, 0})) queue_run();
  ImGui::SameLine();
  ImGui::BeginDisabled(!runner_->busy());
  if (ImGui::Button("Cancel", {-1, 0})) runner_->cancel();
  ImGui::EndDisabled();
  ImGui::TextWrapped("%s", runner_->status().c_str());
  for (auto& [id, st] : runner_->nodes())
    if (st.running && st.max > 0) {
      std::string t = "node " + id + ": step " + std::to_string(st.value) + "/" + std::to_string(st.max);
      ImGui::ProgressBar(float(st.value) / float(st.max), {-1, 0}, t.c_str());
    }
  float w = ImGui::GetContentRegionAvail().x;
  auto show = [&](const char* label, const std::shared_ptr<const Image>& img) {
    if (!img) return;
    ImGui::TextDisabled("%s (%dx%d)", label, img->width, img->height);
    ImVec2 p = ImGui::GetCursorScreenPos();
    float h = std::min(w, w * float(img->height) / float(std::max(1, img->width)));
    draw_image(ImGui::GetWindowDrawList(), *img, p, {p.x + w, p.y + h});
    ImGui::Dummy({w, h});
  };
  show("Latent preview", runner_->latest_preview());
  show("Output", runner_->latest_image());
  if (!runner_->output_files().empty()) {
    ImGui::TextDisabled("Files");
    for (auto it = runner_->output_files().rbegin(); it != runner_->output_files().rend(); ++it) ImGui::TextWrapped("%s", it->c_str());
  }
  if (auto it = runner_->nodes().find(""); it != runner_->nodes().end() && !it->second.error.empty())
    ImGui::TextColored({1, 0.4f, 0.4f, 1}, "%s", it->second.error.c_str());
  stats_panel();
  ImGui::End();
}

void App::help_window() {
  if (!show_help_) return;
  ImGui::Begin("Shortcuts", &show_help_, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings);
  static const char* rows[][2] = {
      {"Space / Tab / double-click", "add a node (fuzzy search)"}, {"drag an output onto an input", "link (replaces the input's link)"},
      {"drop a link on empty canvas", "add a node that takes it"}, {"drag a linked input", "pick the link up"},
      {"drag empty canvas / middle drag", "pan"},                  {"wheel", "zoom at the cursor"},
      {"click / Ctrl+click / Ctrl+drag", "select / toggle / box select"}, {"Del", "delete"},
      {"Ctrl+C / Ctrl+V / Ctrl+D", "copy / paste / duplicate"},    {"Ctrl+Z / Ctrl+Y", "undo / redo"},
      {"Ctrl+G", "group the selection"},                            {"Ctrl+S / Ctrl+Shift+S / Ctrl+O", "save / save as / open"},
      {"Ctrl+Enter", "queue"},                                      {"Esc", "cancel the run, clear the selection"},
      {"F / Home", "fit the graph"},
  };
  for (auto& r : rows) {
    ImGui::TextUnformatted(r[0]);
    ImGui::SameLine(260);
    ImGui::TextDisabled("%s", r[1]);
  }
  ImGui::End();
}

void App::file_dialog() {
  if (!dialog_.open) return;
  ImGui::OpenPopup(dialog_.saving ? "Save as" : "Open");
  if (ImGui::BeginPopupModal(dialog_.saving ? "Save as" : "Open", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted(dialog_.saving ? "File (.json; format: by the menu item, else as loaded)" : "Graph (API JSON, UI workflow JSON or PNG)");
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    ImGui::SetNextItemWidth(480);
    bool go = ImGui::InputText("##path", dialog_.path, sizeof dialog_.path, ImGuiInputTextFlags_EnterReturnsTrue);
    go |= ImGui::Button("OK");
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) dialog_.open = false, ImGui::CloseCurrentPopup();
    if (go && dialog_.path[0]) {
      try {
        if (dialog_.saving) save(dialog_.path, dialog_.format);
        else open(dialog_.path);
      } catch (const std::exception& e) {
        set_toast(e.what());
      }
      dialog_.open = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

void App::quit_dialog() {
  if (!show_quit_) return;
  ImGui::OpenPopup("Unsaved changes");
  if (ImGui::BeginPopupModal("Unsaved changes", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("The graph has unsaved changes.");
    if (ImGui::Button("Save and quit")) {
      if (file_.empty()) dialog_ = {true, true, "", ""};
      else try { save(file_); quit_ = true; } catch (const std::exception& e) { set_toast(e.what()); }
      show_quit_ = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Quit without saving")) quit_ = true, show_quit_ = false, ImGui::CloseCurrentPopup();
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) show_quit_ = false, ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

void App::ask_quit() {
  if (ed_->dirty()) show_quit_ = true;
  else quit_ = true;
}

void App::frame() {
  runner_->poll();
  update_plan();
  if (edit_open_ && !ImGui::IsAnyItemActive()) ed_->commit(), edit_open_ = false;  // the widget went away
  menu_bar();
  ImGuiIO& io = ImGui::GetIO();
  float top = ImGui::GetFrameHeight();
  float ui = io.FontGlobalScale;  // HiDPI: the panel's text is larger, so is the panel
  float panel = std::min(io.DisplaySize.x * 0.45f, std::clamp(io.DisplaySize.x * 0.22f, 220.0f * ui, 380.0f * ui));
  canvas({0, top}, {io.DisplaySize.x - panel, io.DisplaySize.y - top});
  side_panel({io.DisplaySize.x - panel, top}, {panel, io.DisplaySize.y - top});
  palette_window();
  help_window();
  file_dialog();
  quit_dialog();
  if (!palette_.open && !dialog_.open && !show_quit_) shortcuts();
}

}  // namespace vkf::editor
