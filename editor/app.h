// The editor application: the graph being edited (GraphEditor: every edit undoable), the view (pan, zoom,
// selection, drags), the node palette, the run panel and the file it came from. Drawn with Dear ImGui
// each frame; the canvas is drawn on draw lists (no node-editor library).
#pragma once
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <imgui.h>

#include "editor/runner.h"
#include "engine/graph/edit.h"

namespace vkf::editor {

// One socket row of a node, in canvas units relative to the node's top-left corner.
struct Slot {
  std::string name, type;
  float y = 0;            // centre of the row
  bool widget = false;    // a literal input drawn as an inline widget (still accepts a link)
  bool linked = false;
  float rows = 1;         // multi-line text takes more
};

// A node's box as laid out on the canvas (canvas units).
struct NodeBox {
  std::string id, title, class_type;
  const graph::NodeDef* def = nullptr;  // nullptr: unknown class (drawn red)
  ImVec2 pos, size;
  std::vector<Slot> ins, outs;
  float image_top = 0;  // where an image/preview area starts (size.y includes it)
};

enum class DragKind { None, Pan, Nodes, Box, Link, Group };

struct LinkDrag {
  bool from_output = true;  // dragged from an output (else from an input, looking for an output)
  std::string node;         // the fixed end
  int output = 0;           // when from_output
  std::string input;        // when !from_output
  std::string type;
};

class App {
 public:
  App(graph::RunEnv env);

  // File handling. open() accepts API JSON, UI workflow JSON and PNGs; throws on errors.
  void open(const std::filesystem::path& file);
  void save(const std::filesystem::path& file, const std::string& format = "");  // "api" | "workflow" | "" (by file)
  void new_graph();

  void frame();  // one ImGui frame of the whole UI (between NewFrame and Render)

  graph::GraphEditor& editor() { return *ed_; }
  Runner& runner() { return *runner_; }
  bool quit_requested() const { return quit_; }
  void request_quit() { quit_ = true; }
  void ask_quit();  // the window's close button: asks first when there are unsaved changes
  const std::string& toast() const { return toast_; }
  void set_toast(std::string msg);

  // Actions (menus, keys and the script share them).
  void queue_run();
  void delete_selection();
  void copy_selection();
  void paste_at(ImVec2 canvas_pos);
  void duplicate_selection();
  void select_all();
  void fit_view();
  void group_selection();
  std::set<std::string>& selection() { return sel_; }
  // Opens the palette at a screen position (filtered for `link` when given).
  void open_palette(ImVec2 screen, std::optional<LinkDrag> link = std::nullopt);
  bool palette_open() const { return palette_.open; }
  // Adds a node from the palette (or the script) at a canvas position and completes a pending link.
  std::string add_node_at(const std::string& class_type, ImVec2 canvas, const std::optional<LinkDrag>& link);

  // Geometry (the script aims real mouse events with these).
  const NodeBox* box(const std::string& id);
  std::optional<ImVec2> socket_screen(const std::string& id, bool output, const std::string& name_or_index);
  ImVec2 to_screen(ImVec2 c) const { return {origin_.x + (c.x + pan_.x) * zoom_, origin_.y + (c.y + pan_.y) * zoom_}; }
  ImVec2 to_canvas(ImVec2 s) const { return {(s.x - origin_.x) / zoom_ - pan_.x, (s.y - origin_.y) / zoom_ - pan_.y}; }
  void set_view(ImVec2 pan, float zoom) { pan_ = pan, zoom_ = zoom; }
  ImVec2 pan() const { return pan_; }
  float zoom() const { return zoom_; }
  void zoom_at(ImVec2 screen, float factor);
  ImVec2 canvas_origin() const { return origin_; }
  ImVec2 canvas_size() const { return canvas_size_; }
  std::string file() const { return file_.string(); }
  // The link into `to`.`input` on screen: its midpoint (where a hover inspects it); nullopt when unlinked.
  std::optional<ImVec2> link_midpoint(const std::string& to, const std::string& input);
  // What the canvas shows beyond the graph, for the script's `state FILE`: each node's screen rectangle,
  // its mark before queueing ("run" / "cached"), the last run's figures, the hovered link's text, recents.
  nlohmann::json state_json();
  // The thumbnail of the link hovered in the last frame (null when none).
  const std::shared_ptr<const Image>& link_thumbnail() const { return link_thumb_img_; }
  const std::vector<std::string>& recent() const { return recent_; }
  // The hovered link's inspection as `state` shows it: null (no link), {"status": "pending"|"ready"|...}.
  const nlohmann::json& link_stats() const { return link_stats_; }

 private:
  void menu_bar();
  void side_panel(ImVec2 pos, ImVec2 size);
  void canvas(ImVec2 pos, ImVec2 size);
  void shortcuts();
  void help_window();
  void palette_window();
  void file_dialog();
  void quit_dialog();
  void relayout();
  void draw_groups(ImDrawList* dl);
  void draw_links(ImDrawList* dl);
  void draw_node(ImDrawList* dl, const NodeBox& b);
  void node_widgets(const NodeBox& b, const graph::Node& n);
  void canvas_input(bool hovered);
  void finish_link_drag(ImVec2 mouse);
  // Calls f(source box, output index, target box, target slot, screen start, screen end) for every link
  // between laid-out boxes (the canvas draws them, the hover test walks them).
  template <class F>
  void for_each_link(F&& f) const {
    for (auto& b : boxes_) {
      const graph::Node* n = ed_->graph().find(b.id);
      if (!n) continue;
      for (auto& s : b.ins) {
        auto it = n->inputs().find(s.name);
        if (it == n->inputs().end()) continue;
        auto l = graph::parse_link(*it);
        if (!l) continue;
        auto src = box_index_.find(l->node);
        if (src == box_index_.end()) continue;
        const NodeBox& sb = boxes_[src->second];
        if (l->output < 0 || size_t(l->output) >= sb.outs.size()) continue;
        f(sb, l->output, b, s, to_screen({sb.pos.x + sb.size.x, sb.pos.y + sb.outs[size_t(l->output)].y}),
          to_screen({b.pos.x, b.pos.y + s.y}));
      }
    }
  }
  // Hit tests (screen positions): a socket under the mouse, a node, a group title.
  struct SocketHit {
    std::string node;
    bool output = false;
    int index = 0;
    std::string name, type;
  };
  std::optional<SocketHit> socket_at(ImVec2 s) const;
  const NodeBox* node_at(ImVec2 s) const;
  int group_title_at(ImVec2 s) const;
  graph::Graph run_graph() const;  // the graph as queued: the prompt plus the current workflow
  // Before queueing: which nodes would run and which come from the cache (recomputed after each edit
  // and each finished run, while idle).
  void update_plan();
  void draw_overlay(ImDrawList* dl, const NodeBox& b);  // plan mark and the last run's time / memory
  void link_hover(ImDrawList* dl);  // the link under the mouse: highlighted, its value's type and shape
  void stats_panel();               // side panel: the last run's nodes by time
  void load_recent();
  void remember(const std::filesystem::path& file);  // front of the recent list, persisted

  std::unique_ptr<graph::GraphEditor> ed_;
  std::unique_ptr<Runner> runner_;
  graph::Paths paths_;
  std::filesystem::path file_;
  std::string format_ = "api";  // what Save writes
  // view
  ImVec2 pan_{40, 40}, origin_{0, 0}, canvas_size_{0, 0};
  float zoom_ = 1.0f;
  std::vector<NodeBox> boxes_;
  std::map<std::string, size_t> box_index_;
  uint64_t laid_out_rev_ = UINT64_MAX, laid_out_epoch_ = UINT64_MAX;
  // interaction
  std::set<std::string> sel_;
  DragKind drag_ = DragKind::None;
  ImVec2 drag_start_{0, 0}, drag_last_{0, 0};
  ImVec2 drag_moved_{0, 0};  // canvas units the selection has moved so far
  LinkDrag link_;
  int drag_group_ = -1;
  std::vector<std::string> group_nodes_;
  bool edit_open_ = false;  // a widget edit transaction is open (one undo step per drag / typing)
  nlohmann::json clipboard_;
  std::string toast_;
  double toast_time_ = 0;
  ImVec2 toast_pos_{0, 0};
  bool quit_ = false, show_help_ = false, show_quit_ = false;
  struct Palette {
    bool open = false, focus = false;
    ImVec2 screen{0, 0};
    char filter[128] = "";
    int cursor = 0;
    std::optional<LinkDrag> link;
  } palette_;
  struct FileDialog {
    bool open = false, saving = false;
    char path[512] = "";
    std::string format;
  } dialog_;
  std::vector<std::string> recent_;
  std::map<std::string, bool> plan_;  // node -> would run (true) / from the cache (false)
  uint64_t plan_rev_ = UINT64_MAX;
  int plan_runs_ = -1;
  std::string plan_error_, link_tip_, link_thumb_;
  std::shared_ptr<const Image> link_thumb_img_;  // the hovered link's thumbnail (script: link-thumb)
  nlohmann::json link_stats_;  // the hovered link's inspection (state FILE)
};

// Where the recent-files list is kept: $XDG_CONFIG_HOME/vkflow/recent.json, else ~/.config/vkflow/;
// empty when neither variable is set.
std::filesystem::path recent_file();
std::string format_bytes(size_t n);  // "512 B", "1.5 KiB", "64.0 MiB"
// A run node's figures: "12.3 ms (GPU 4.1) | 1.0 KiB, peak 64.0 MiB" (GPU and peak when profiled).
std::string node_figures(const graph::NodeStats& st);


// ComfyUI's socket colours by type (a stable hash colour for types it has none for).
ImU32 type_color(const std::string& type);
// Auto-layout for graphs without positions: columns by depth, rows in id order.
void layout_missing_positions(graph::Graph& g);
// Draws an RGB8 image into [p0, p1] (nearest sampling, at most ~128 cells a side).
void draw_image(ImDrawList* dl, const Image& img, ImVec2 p0, ImVec2 p1);
// The fuzzy-match score of `pattern` in `text` (case-insensitive subsequence); < 0 when it does not match.
int fuzzy_score(const std::string& pattern, const std::string& text);

}  // namespace vkf::editor
