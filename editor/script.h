// --script FILE: a command list that drives the editor headless (tests, demos). Semantic commands call
// the same actions the menus do (add, connect, set, run, wait, save, screenshot, ...); input commands
// (click, dblclick, drag, drag-link, key, type, scroll) feed real mouse/keyboard events through ImGui's IO,
// one frame at a time, so they exercise the same code paths as a user. One command per line, '#'
// comments, "double quotes" group words; `$NAME` names a node bound with `add ... as NAME` and `$last`
// is the node added last. A failed expectation or command ends the script with exit status 1.
#pragma once
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <imgui.h>

namespace vkf::editor {

class App;

class Script {
 public:
  explicit Script(const std::filesystem::path& file);  // throws when unreadable

  void inject(ImGuiIO& io);  // before ImGui::NewFrame: this frame's mouse/keys
  // After a frame: runs commands until one needs more frames. Returns a screenshot path to take on the
  // next frame ("" none).
  std::filesystem::path step(App& app);
  bool finished() const { return finished_; }
  int exit_code() const { return failed_ ? 1 : 0; }

 private:
  struct Input {
    ImVec2 pos{0, 0};
    bool down[3] = {false, false, false};
    int key = -1;
    bool ctrl = false, shift = false;
    std::string chars;
    float wheel = 0;
  };
  bool run(App& app, const std::vector<std::string>& w);  // false: the command waits for frames
  std::string node(App& app, const std::string& ref) const;
  void fail(const std::string& msg);
  void click(ImVec2 p, int button, int times);
  void drag(ImVec2 a, ImVec2 b);

  std::vector<std::vector<std::string>> lines_;
  std::vector<int> line_no_;
  size_t pc_ = 0;
  std::deque<Input> inputs_;
  Input last_;
  std::map<std::string, std::string> names_;
  int wait_frames_ = 0;
  double wait_until_ = 0;  // `wait`: glfw-free deadline in ImGui time
  bool waiting_run_ = false, waiting_link_ = false;
  std::string wait_step_;  // `wait-step`: the node whose first sampler step is awaited
  bool finished_ = false, failed_ = false;
};

}  // namespace vkf::editor
