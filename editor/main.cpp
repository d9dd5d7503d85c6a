// vkflow-editor [GRAPH.json | IMAGE.png]: the native node editor. Options: the run folders as `vkflow run`
// (--models-dir, --input-dir, --output-dir, --temp-dir, --clip-vocab, --device), --size WxH, --script FILE,
// --screenshot PNG (after the script, or after the first frames), --bench N (N nodes, prints frame times),
// and the plugin options every vkflow command takes (--plugin FILE, --plugins-dir DIR).
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_vulkan.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "editor/app.h"
#include "editor/bench.h"
#include "editor/script.h"
#include "editor/vk_window.h"
#include "engine/graph/services.h"
#include "engine/graph/workflow.h"
#include "engine/plugin/plugin_host.h"
#include "engine/vk/context.h"

using namespace vkf;

namespace {

const char* kUsage =
    "usage: vkflow-editor [GRAPH.json | IMAGE.png] [options]\n"
    "  --models-dir DIR --input-dir DIR --output-dir DIR --temp-dir DIR --clip-vocab FILE --device N\n"
    "  --size WxH          window size (default 1280x720)\n"
    "  --script FILE       run editor commands (see editor/README.md), then quit\n"
    "  --screenshot PNG    write the rendered window after the script (or the first frames) and quit\n"
    "  --bench N           build a graph of N nodes, pan and zoom it for --seconds S (default 10) or\n"
    "                      --frames F frames, print the frame-time statistics and quit\n"
    "  --stats             print frame-time statistics at exit (and how many frames were drawn)\n"
    "  --quit-after S      quit after S seconds (demos, tests)\n"
    "  --no-profile        no per-node GPU time or peak device memory after a run (the CPU time and\n"
    "                      output sizes stay; per-node profiling writes one GPU timestamp pair per submit)\n"
    "  --scale S           UI scale (0.5-4; default: the monitor's content scale, for HiDPI)\n"
    "  --plugin FILE       load a sampler plugin (repeatable); --plugins-dir DIR: load every plugin there\n"
    "                      (default: plugins/ beside --models-dir and $XDG_DATA_HOME/vkflow/plugins), as\n"
    "                      `vkflow`; their samplers appear in the palette and the sampler combos\n";

}  // namespace

int main(int argc, char** argv) {
  graph::RunEnv env;
  std::string file, script_file, shot, clip_vocab, plugins_dir;
  std::vector<std::string> plugin_files;
  int device = -1, width = 1280, height = 720, bench_nodes = -1, bench_frames = 0;
  double bench_seconds = 10, quit_after = 0;
  float ui_scale = 0;  // 0: the monitor's content scale (HiDPI)
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "vkflow-editor: " << a << " needs a value\n" << kUsage;
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") return std::cout << kUsage, 0;
      else if (a == "--models-dir") env.paths.models_dir = val();
      else if (a == "--input-dir") env.paths.input_dir = val();
      else if (a == "--output-dir") env.paths.output_dir = val();
      else if (a == "--temp-dir") env.paths.temp_dir = val();
      else if (a == "--clip-vocab") clip_vocab = val();
      else if (a == "--plugin") plugin_files.push_back(val());
      else if (a == "--plugins-dir") plugins_dir = val();
      else if (a == "--device") device = std::stoi(val());
      else if (a == "--script") script_file = val();
      else if (a == "--screenshot") shot = val();
      else if (a == "--bench") {
        bench_nodes = std::stoi(val());
        if (bench_nodes < 0) throw std::invalid_argument("bench");
      }
      else if (a == "--frames") bench_frames = std::stoi(val());
      else if (a == "--seconds") bench_seconds = std::stod(val());
      else if (a == "--stats") stats = true;
      else if (a == "--no-profile") env.node_profile = false;
      else if (a == "--quit-after") quit_after = std::stod(val());
      else if (a == "--scale") {
        ui_scale = std::stof(val());
        if (!(ui_scale >= 0.5f && ui_scale <= 4.0f)) throw std::invalid_argument("scale");
      }
      else if (a == "--size") {
        std::string v = val();
        if (std::sscanf(v.c_str(), "%dx%d", &width, &height) != 2 || width < 320 || height < 240)
          throw std::invalid_argument(v);
      } else if (!a.empty() && a[0] == '-') {
        std::cerr << "vkflow-editor: unknown option " << a << "\n" << kUsage;
        return 2;
      } else if (file.empty()) file = a;
      else return std::cerr << "vkflow-editor: one graph file at a time\n", 2;
    } catch (const std::invalid_argument&) {
      std::cerr << "vkflow-editor: bad value for " << a << "\n";
      return 2;
    } catch (const std::out_of_range&) {
      std::cerr << "vkflow-editor: bad value for " << a << "\n";
      return 2;
    }
  }
  // Before the graph is checked: its nodes may name plugin samplers. A bad plugin is reported and skipped.
  plugin::load_plugins(plugins_dir, plugin_files, env.paths.models_dir.string());
  if (!clip_vocab.empty()) env.services->set(graph::kClipVocabService, std::make_shared<std::string>(clip_vocab));
  std::optional<editor::Script> script;
  try {
    if (!script_file.empty()) script.emplace(script_file);
  } catch (const std::exception& e) {
    std::cerr << "vkflow-editor: " << e.what() << "\n";
    return 2;
  }

  if (!file.empty()) {  // a bad file is refused before any window opens
    try {
      graph::load_graph_file(file, graph::PngPrefer::Workflow);
    } catch (const std::exception& e) {
      std::cerr << "vkflow-editor: " << e.what() << "\n";
      return 2;
    }
  }
  int code = 0;
  try {
    editor::VkWindow win(width, height, "vkflow editor", device);
    env.services->set(graph::kGpuService, std::static_pointer_cast<void>(win.context()));
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no imgui.ini: the layout is computed, tests stay hermetic
    float scale = ui_scale;
    if (scale == 0) glfwGetWindowContentScale(win.glfw(), &scale, nullptr);
    ImGui::StyleColorsDark();
    if (std::abs(scale - 1) > 0.01f) ImGui::GetStyle().ScaleAllSizes(scale), io.FontGlobalScale = scale;  // HiDPI
    editor::App app(env);
    if (!file.empty()) {
      try {
        app.open(file);
      } catch (const std::exception& e) {
        std::cerr << "vkflow-editor: " << e.what() << "\n";
        return 2;
      }
    }
    std::unique_ptr<editor::Bench> bench;
    if (bench_nodes >= 0) bench = std::make_unique<editor::Bench>(app, bench_nodes, bench_frames, bench_seconds);
    std::vector<double> frame_ms, ui_ms;  // whole frames; building the UI (CPU, before rendering)
    std::filesystem::path pending_shot;
    int frame = 0;
    bool fitted = false;
    auto t_prev = std::chrono::steady_clock::now();
    // Interactive: frames that nothing can have changed are skipped (no UI build, render or present), so
    // an idle editor costs ~0. A frame is drawn after any input or window event (and a few after it, for
    // ImGui's hover and focus to settle), continuously while a run is in progress, and at 2 Hz otherwise
    // (toasts expiring, the text cursor blinking).
    const bool interactive = !script && !bench && shot.empty();
    int quiet = 0;  // frames drawn since the last event
    auto started = std::chrono::steady_clock::now();
    while (!app.quit_requested()) {
      if (quit_after > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >= quit_after)
        break;
      if (interactive && quiet >= 3 && !app.runner().busy()) {
        glfwWaitEventsTimeout(0.5);  // an event, or the 2 Hz tick: either way one frame is drawn
        if (win.take_events()) quiet = 0;
      } else {
        glfwPollEvents();
        if (win.take_events()) quiet = 0;
      }
      ++quiet;
      if (win.should_close()) {
        glfwSetWindowShouldClose(win.glfw(), GLFW_FALSE);
        if (script || bench) break;
        app.ask_quit();
      }
      ImGui_ImplVulkan_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      if (script) script->inject(io);
      if (bench) bench->inject(io, frame);
      auto t_ui = std::chrono::steady_clock::now();
      ImGui::NewFrame();
      app.frame();
      if (!fitted && frame == 1 && !file.empty()) app.fit_view(), fitted = true;  // the canvas size is known now
      ImGui::Render();
      ui_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_ui).count());
      win.render(ImGui::GetDrawData(), pending_shot);
      if (!pending_shot.empty()) std::cout << "screenshot: " << pending_shot.string() << "\n";
      pending_shot.clear();
      auto t = std::chrono::steady_clock::now();
      frame_ms.push_back(std::chrono::duration<double, std::milli>(t - t_prev).count());
      if (bench) {
        const auto& wt = win.last_timing();
        double parts[5] = {wt.fence, wt.acquire, wt.record, wt.present, wt.render};
        bench->record(frame_ms.back(), ui_ms.back(), parts, ImGui::GetDrawData()->TotalVtxCount);
      }
      t_prev = t;
      ++frame;
      if (script) {
        pending_shot = script->step(app);
        if (script->finished() && pending_shot.empty()) {
          if (!shot.empty()) {
            pending_shot = shot, shot.clear();
            continue;
          }
          code = script->exit_code();
          break;
        }
      } else if (bench) {
        if (bench->done(frame)) break;
      } else if (!shot.empty()) {  // a few frames first: fonts, layout, fit
        if (frame == 6) pending_shot = shot;
        else if (frame > 6) break;
      }
    }
    if (bench) bench->report(), std::printf("present mode %s, %u images\n", win.present_mode_name(), win.image_count());
    else if (stats) {
      editor::print_frame_stats(frame_ms, 0);
      std::printf("frames drawn: %zu in %.1f s\n", frame_ms.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (auto msgs = win.context()->validation_message_count(); msgs > 0) {
      std::cerr << "vkflow-editor: " << msgs << " Vulkan validation message(s)\n";
      code = 1;
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return code;
}
