#include "editor/script.h"

#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "editor/app.h"
#include "engine/io/png.h"

namespace vkf::editor {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> w;
  std::string cur;
  bool q = false, have = false;
  for (char c : line) {
    if (c == '"') q = !q, have = true;
    else if (!q && std::isspace(static_cast<unsigned char>(c))) {
      if (have) w.push_back(cur), cur.clear(), have = false;
    } else cur += c, have = true;
  }
  if (have) w.push_back(cur);
  return w;
}

float f(const std::string& s) { return std::stof(s); }

// GLFW key codes (the GLFW backend of ImGui 1.86 indexes io.KeysDown by them).
int key_code(const std::string& name) {
  if (name.size() == 1 && std::isalnum(static_cast<unsigned char>(name[0]))) return std::toupper(static_cast<unsigned char>(name[0]));
  static const std::map<std::string, int> k = {{"enter", 257}, {"escape", 256}, {"tab", 258},  {"backspace", 259},
                                               {"delete", 261}, {"space", 32},  {"up", 265},   {"down", 264},
                                               {"left", 263},  {"right", 262}, {"home", 268}, {"f1", 290}};
  auto it = k.find(name);
  return it == k.end() ? -1 : it->second;
}

}  // namespace

Script::Script(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read script " + file.string());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (auto h = line.find('#'); h != std::string::npos && (h == 0 || std::isspace(static_cast<unsigned char>(line[h - 1]))))
      line.erase(h);
    auto w = split(line);
    if (!w.empty()) lines_.push_back(w), line_no_.push_back(n);
  }
}

void Script::fail(const std::string& msg) {
  std::cerr << "vkflow-editor: script line " << (pc_ < line_no_.size() ? line_no_[pc_] : 0) << ": " << msg << "\n";
  failed_ = true;
  finished_ = true;
}

void Script::inject(ImGuiIO& io) {
  io.MouseDoubleClickTime = 1.0f;  // frames may be slow on a software rasteriser
  if (!inputs_.empty()) last_ = inputs_.front(), inputs_.pop_front();
  else last_.key = -1, last_.chars.clear(), last_.wheel = 0;
  io.MousePos = last_.pos;
  for (int i = 0; i < 3; ++i) io.MouseDown[i] = last_.down[i];
  io.MouseWheel += last_.wheel;
  for (int k : {32, 65, 67, 68, 71, 83, 86, 88, 89, 90, 256, 257, 258, 259, 261, 262, 263, 264, 265, 268, 290})
    io.KeysDown[k] = false;
  for (char c = 'A'; c <= 'Z'; ++c) io.KeysDown[int(c)] = false;
  if (last_.key >= 0) io.KeysDown[last_.key] = true;
  io.KeyCtrl = last_.ctrl, io.KeyShift = last_.shift;
  for (char c : last_.chars) io.AddInputCharacter(static_cast<unsigned char>(c));
}

void Script::click(ImVec2 p, int button, int times) {
  Input i = last_;
  i.key = -1, i.chars.clear(), i.wheel = 0, i.pos = p;
  inputs_.push_back(i);
  for (int t = 0; t < times; ++t) {
    i.down[button] = true;
    inputs_.push_back(i);
    i.down[button] = false;
    inputs_.push_back(i);
  }
  inputs_.push_back(i);
}

void Script::drag(ImVec2 a, ImVec2 b) {
  Input i = last_;
  i.key = -1, i.chars.clear(), i.wheel = 0, i.pos = a;
  inputs_.push_back(i);
  i.down[0] = true;
  inputs_.push_back(i);
  for (int s = 1; s <= 10; ++s) {
    i.pos = {a.x + (b.x - a.x) * s / 10, a.y + (b.y - a.y) * s / 10};
    inputs_.push_back(i);
  }
  inputs_.push_back(i);
  i.down[0] = false;
  inputs_.push_back(i);
  inputs_.push_back(i);
}

std::string Script::node(App& app, const std::string& ref) const {
  if (ref == "$last") {  // the highest numeric id
    long best = -1;
    std::string id;
    for (auto& n : app.editor().graph().nodes())
      if (long v = std::strtol(n.id.c_str(), nullptr, 10); v > best) best = v, id = n.id;
    return id;
  }
  if (!ref.empty() && ref[0] == '$') {
    auto it = names_.find(ref.substr(1));
    if (it == names_.end()) throw std::runtime_error("no node named " + ref);
    return it->second;
  }
  return ref;
}

std::filesystem::path Script::step(App& app) {
  if (finished_) return {};
  if (!inputs_.empty()) return {};
  if (wait_frames_ > 0) {
    --wait_frames_;
    return {};
  }
  if (waiting_run_) {
    if (app.runner().busy()) {
      if (ImGui::GetTime() > wait_until_) fail("timed out waiting for the run");
      return {};
    }
    waiting_run_ = false;
  }
  if (!wait_step_.empty()) {
    const NodeRunState* st = app.runner().node(wait_step_);
    if (!st || st->value == 0) {
      if (!app.runner().busy()) return fail("the run ended before node " + wait_step_ + " made a step"), std::filesystem::path();
      if (ImGui::GetTime() > wait_until_) fail("timed out waiting for a step of node " + wait_step_);
      return {};
    }
    std::cout << "step " << st->value << "/" << st->max << " of node " << wait_step_ << "\n";
    wait_step_.clear();
  }
  if (waiting_link_) {
    const auto& ls = app.link_stats();
    if (ls.is_object() && ls.value("status", "") == "pending") {
      if (ImGui::GetTime() > wait_until_) fail("timed out waiting for the link's statistics");
      return {};
    }
    waiting_link_ = false;
  }
  while (pc_ < lines_.size() && !finished_) {
    const auto& w = lines_[pc_];
    if (w[0] == "screenshot") {
      if (w.size() != 2) return fail("usage: screenshot FILE"), std::filesystem::path();
      ++pc_;
      wait_frames_ = 1;
      return w[1];
    }
    bool done = false;
    try {
      done = run(app, w);
    } catch (const std::exception& e) {
      fail(w[0] + ": " + e.what());
      return {};
    }
    ++pc_;
    if (!done) return {};
  }
  if (pc_ >= lines_.size()) finished_ = true;
  return {};
}

bool Script::run(App& app, const std::vector<std::string>& w) {
  auto& ed = app.editor();
  const std::string& c = w[0];
  auto need = [&](size_t n, const char* usage) {
    if (w.size() < n + 1) throw std::runtime_error(std::string("usage: ") + usage);
  };
  if (c == "open") need(1, "open FILE"), app.open(w[1]);
  else if (c == "new") app.new_graph();
  else if (c == "add") {
    need(3, "add CLASS X Y [as NAME]");
    std::string id = app.add_node_at(w[1], {f(w[2]), f(w[3])}, std::nullopt);
    if (w.size() >= 6 && w[4] == "as") names_[w[5]] = id;
  } else if (c == "connect" || c == "expect-refused") {
    need(4, "connect FROM OUTPUT TO INPUT");
    auto r = c == "connect" ? ed.connect(node(app, w[1]), std::stoi(w[2]), node(app, w[3]), w[4])
                            : ed.can_connect(node(app, w[1]), std::stoi(w[2]), node(app, w[3]), w[4]);
    if (c == "connect" && !r) throw std::runtime_error("link refused: " + r.reason);
    if (c == "expect-refused") {
      if (r) throw std::runtime_error("expected the link to be refused");
      std::cout << "refused: " << r.reason << "\n";
    }
  } else if (c == "disconnect") need(2, "disconnect TO INPUT"), ed.disconnect(node(app, w[1]), w[2]);
  else if (c == "set") {
    need(3, "set NODE INPUT VALUE");
    auto v = nlohmann::json::parse(w[3], nullptr, false);
    ed.set_input(node(app, w[1]), w[2], v.is_discarded() ? nlohmann::json(w[3]) : v);
  } else if (c == "select" || c == "delete") {
    app.selection().clear();
    for (size_t i = 1; i < w.size(); ++i) app.selection().insert(node(app, w[i]));
    if (c == "delete") app.delete_selection();
  } else if (c == "copy") app.copy_selection();
  else if (c == "paste") need(2, "paste X Y"), app.paste_at({f(w[1]), f(w[2])});
  else if (c == "duplicate") app.duplicate_selection();
  else if (c == "group") app.group_selection();
  else if (c == "undo") { if (!ed.undo()) throw std::runtime_error("nothing to undo"); }
  else if (c == "redo") { if (!ed.redo()) throw std::runtime_error("nothing to redo"); }
  else if (c == "move") need(3, "move NODE DX DY"), ed.move_nodes({node(app, w[1])}, f(w[2]), f(w[3]));
  else if (c == "run") app.queue_run();
  else if (c == "cancel") app.runner().cancel();
  else if (c == "wait") {
    waiting_run_ = true;
    wait_until_ = ImGui::GetTime() + (w.size() > 1 ? f(w[1]) : 600.0);
    return false;
  } else if (c == "wait-step") {
    need(1, "wait-step NODE [SECONDS]: until the node's sampler reports a step");
    wait_step_ = node(app, w[1]);
    wait_until_ = ImGui::GetTime() + (w.size() > 2 ? f(w[2]) : 600.0);
    return false;
  } else if (c == "wait-link") {  // until the hovered link's figures have arrived
    waiting_link_ = true;
    wait_until_ = ImGui::GetTime() + (w.size() > 1 ? f(w[1]) : 60.0);
    return false;
  } else if (c == "expect-run") {
    need(1, "expect-run ok|failed|cancelled");
    bool want_ok = w[1] == "ok";
    std::cout << "run: " << app.runner().status() << "\n";
    if (w[1] == "cancelled") {
      if (app.runner().status() != "Cancelled") throw std::runtime_error("expected the run to be cancelled, got: " + app.runner().status());
    } else if (app.runner().finished_runs() == 0 || app.runner().last_ok() != want_ok)
      throw std::runtime_error("expected the run to be " + w[1] + ", got: " + app.runner().status());
  } else if (c == "expect-error") {
    need(1, "expect-error NODE");
    const NodeRunState* s = app.runner().node(node(app, w[1]));
    if (!s || s->error.empty()) throw std::runtime_error("expected an error shown on node " + w[1]);
    std::cout << "error on " << w[1] << ": " << s->error << "\n";
  } else if (c == "expect-nodes") {
    need(1, "expect-nodes N");
    if (ed.graph().nodes().size() != size_t(std::stoul(w[1])))
      throw std::runtime_error("expected " + w[1] + " nodes, have " + std::to_string(ed.graph().nodes().size()));
  } else if (c == "save") need(1, "save FILE [api|workflow]"), app.save(w[1], w.size() > 2 ? w[2] : "");
  else if (c == "frames") {
    need(1, "frames N");
    wait_frames_ = std::stoi(w[1]);
    return false;  // the next command runs after them
  }
  else if (c == "view") need(3, "view PANX PANY ZOOM"), app.set_view({f(w[1]), f(w[2])}, f(w[3]));
  else if (c == "fit") app.fit_view();
  else if (c == "echo") {
    for (size_t i = 1; i < w.size(); ++i) std::cout << w[i] << (i + 1 < w.size() ? " " : "\n");
  } else if (c == "quit") finished_ = true;
  else if (c == "link-thumb") {  // the hovered link's thumbnail as PNG, as drawn in its tooltip
    need(1, "link-thumb FILE");
    const auto& th = app.link_thumbnail();
    if (!th) throw std::runtime_error("link-thumb: the hovered link shows no thumbnail");
    auto png = io::encode_png(th->rgb, th->width, th->height, 3, {});
    std::ofstream out(w[1], std::ios::binary);
    out.write(reinterpret_cast<const char*>(png.data()), std::streamsize(png.size()));
    if (!out) throw std::runtime_error("cannot write " + w[1]);
  }
  else if (c == "state") {
    need(1, "state FILE");
    std::ofstream out(w[1]);
    out << app.state_json().dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + w[1]);
  }
  // --- real input events ---
  else if (c == "click" || c == "rclick" || c == "dblclick") {
    need(2, "click X Y");
    click({f(w[1]), f(w[2])}, c == "rclick" ? 1 : 0, c == "dblclick" ? 2 : 1);
    return false;
  } else if (c == "canvas-click" || c == "canvas-dblclick") {
    need(2, "canvas-click CX CY");
    click(app.to_screen({f(w[1]), f(w[2])}), 0, c == "canvas-dblclick" ? 2 : 1);
    return false;
  } else if (c == "drag") {
    need(4, "drag X1 Y1 X2 Y2");
    drag({f(w[1]), f(w[2])}, {f(w[3]), f(w[4])});
    return false;
  } else if (c == "drag-link") {
    need(4, "drag-link FROM OUTPUT TO INPUT");
    auto a = app.socket_screen(node(app, w[1]), true, w[2]);
    auto b = app.socket_screen(node(app, w[3]), false, w[4]);
    if (!a || !b) throw std::runtime_error("no such socket");
    drag(*a, *b);
    return false;
  } else if (c == "drag-out") {
    need(4, "drag-out FROM OUTPUT DX DY");
    auto a = app.socket_screen(node(app, w[1]), true, w[2]);
    if (!a) throw std::runtime_error("no such socket");
    drag(*a, {a->x + f(w[3]), a->y + f(w[4])});
    return false;
  } else if (c == "drag-node") {
    need(3, "drag-node NODE DX DY");
    const NodeBox* b = app.box(node(app, w[1]));
    if (!b) throw std::runtime_error("no node " + w[1]);
    ImVec2 a = app.to_screen({b->pos.x + b->size.x * 0.6f, b->pos.y + 8});
    drag(a, {a.x + f(w[2]), a.y + f(w[3])});
    return false;
  } else if (c == "mouse" || c == "hover-link") {  // move the mouse there (no buttons) for a few frames
    Input i = last_;
    if (c == "mouse") need(2, "mouse X Y"), i.pos = {f(w[1]), f(w[2])};
    else {
      need(2, "hover-link TO INPUT");
      auto p = app.link_midpoint(node(app, w[1]), w[2]);
      if (!p) throw std::runtime_error("no link into " + w[1] + " " + w[2]);
      i.pos = *p;
    }
    for (int k = 0; k < 3; ++k) inputs_.push_back(i);
    return false;
  } else if (c == "scroll") {
    need(3, "scroll X Y AMOUNT");
    Input i = last_;
    i.pos = {f(w[1]), f(w[2])};
    inputs_.push_back(i);
    i.wheel = f(w[3]);
    inputs_.push_back(i);
    i.wheel = 0;
    inputs_.push_back(i);
    return false;
  } else if (c == "key") {
    need(1, "key [ctrl+][shift+]NAME");
    Input i = last_;
    std::string k = w[1];
    for (std::string mod : {"ctrl+", "shift+"})
      if (k.rfind(mod, 0) == 0) (mod == "ctrl+" ? i.ctrl : i.shift) = true, k = k.substr(mod.size());
    i.key = key_code(k);
    if (i.key < 0) throw std::runtime_error("unknown key " + k);
    inputs_.push_back(i);
    i.key = -1, i.ctrl = i.shift = false;
    inputs_.push_back(i);
    inputs_.push_back(i);
    return false;
  } else if (c == "type") {
    need(1, "type TEXT");
    Input i = last_;
    i.key = -1;
    i.chars = w[1];
    inputs_.push_back(i);
    i.chars.clear();
    inputs_.push_back(i);
    return false;
  } else throw std::runtime_error("unknown command '" + c + "'");
  return true;
}

}  // namespace vkf::editor
