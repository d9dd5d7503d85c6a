// `vkflow serve`: ComfyUI's HTTP + WebSocket API (server/). Flag parsing only; the server lives in server/.
#include <csignal>
#include <iostream>

#include "engine/cli/command.h"
#include "engine/cli/graph_args.h"
#include "server/serve.h"

namespace vkf::cli {
namespace {

const char* kUsage =
    "usage: vkflow serve [options]\n\n"
    "Serves ComfyUI's HTTP + WebSocket API (POST /prompt, /queue, /history, /view, /upload/image,\n"
    "/object_info, /system_stats, /ws, ...), so ComfyUI clients and SDKs drive vkflow unchanged. Prompts run\n"
    "one at a time on one worker; models stay loaded and node outputs cached between prompts, so a prompt\n"
    "queued again with a new seed re-runs only what changed. The queue and history persist in\n"
    "<data-dir>/queue.sqlite: after a crash or SIGKILL, the pending prompts and the one that was running run\n"
    "(one the server died on 3 times goes to history as failed). SIGINT/SIGTERM stop it, keeping the queue.\n"
    "Prints 'listening on http://ADDR:PORT' on stdout once it accepts connections.\n\n"
    "network:\n"
    "  --listen ADDR             IP address to bind (default 127.0.0.1, loopback only; 0.0.0.0 or :: exposes\n"
    "                            it to the network: set --auth-token then)\n"
    "  --port N                  TCP port (default 8188, ComfyUI's; 0 picks a free one, printed at start)\n"
    "  --auth-token TOKEN        require `Authorization: Bearer TOKEN` or `?token=TOKEN` on every route and on\n"
    "                            /ws (401 otherwise); also read from VKFLOW_AUTH_TOKEN. Default: no auth\n"
    "  --enable-cors-header [ORIGIN]  send Access-Control-Allow-Origin: ORIGIN (default '*') and answer\n"
    "                            OPTIONS preflights; without it, a request whose Origin differs from its Host\n"
    "                            (a page from another site) is refused with 403, as in ComfyUI\n"
    "  --threads N               network threads (default 4; prompts always run on one worker)\n"
    "  --timeout S               drop a client idle or stalled this long mid-request (default 30)\n"
    "  --quiet, -q               no request log on stderr\n\n"
    "folders (nothing a request names may leave them: '..', absolute paths, symlinks out -> 400/403):\n"
    "  --data-dir DIR            the server's folder: queue.sqlite (queue + history) and, unless given below,\n"
    "                            output/, input/ and temp/ (default: vkflow-data)\n"
    "  --output-directory DIR    where SaveImage writes and /view?type=output reads (default DATA/output;\n"
    "                            --output-dir is the same)\n"
    "  --input-directory DIR     where /upload/image writes and LoadImage reads (default DATA/input;\n"
    "                            --input-dir is the same)\n"
    "  --temp-directory DIR      PreviewImage files, /view?type=temp (default DATA/temp; --temp-dir)\n"
    "  --models-dir DIR          checkpoints/, vae/, loras/, embeddings/ for the loaders and /models\n"
    "                            (default: models)\n\n"
    "execution:\n"
    "  --device N                Vulkan device index, as `vkflow devices` lists them (default: VKFLOW_DEVICE,\n"
    "                            else the preferred device); /system_stats reports its memory\n"
    "  --weights f32|f16         model precision (default: f16 where the GPU stores 16-bit, else f32)\n"
    "  --preview-method auto|latent2rgb|none  step previews as binary WebSocket frames (PNG, ComfyUI's\n"
    "                            framing); auto and latent2rgb are the same; none sends none\n"
    "                            (default none, as ComfyUI's)\n"
    "  --no-cache                do not keep node outputs between prompts (everything re-runs)\n"
    "  --device-memory GIB       plan prompts against a device of GIB GiB instead of the device's budget\n"
    "                            (POST /prompt refuses, 400 naming the node, a prompt whose planned device\n"
    "                            memory does not fit, as `vkflow run` does, before queueing it)\n"
    "  --skip-memory-check       queue prompts whatever their memory plan\n\n"
    "limits (over a limit: 413, or the WebSocket is closed):\n"
    "  --max-upload-size MB      largest /upload/image body (default 64)\n"
    "  --max-body-size MB        largest body of any other request (default 16)\n"
    "  --max-image-pixels N      largest decoded image, width*height, for uploads and LoadImage, read from\n"
    "                            the image header so a decompression bomb is refused unread (default 67108864)\n"
    "  --max-ws-message KB       largest WebSocket message a client may send (default 64)\n\n"
    "  --help, -h                this text\n";

size_t to_size(const std::string& flag, const std::string& v, size_t lo, size_t hi) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < static_cast<long long>(lo) || n > static_cast<long long>(hi)) throw std::out_of_range(v);
    return static_cast<size_t>(n);
  } catch (const std::exception&) {
    throw UsageError(flag + " expects an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" + v + "'");
  }
}

int serve_command(std::vector<std::string> args) {
  server::ServeOptions o;
  std::string output, input, temp;  // "" = under the data dir
  if (const char* t = std::getenv("VKFLOW_AUTH_TOKEN")) o.net.auth_token = t;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (auto v = option_value(args, i, "--listen")) o.net.listen = *v;
    else if (auto v = option_value(args, i, "--port")) o.net.port = static_cast<uint16_t>(to_size("--port", *v, 0, 65535));
    else if (auto v = option_value(args, i, "--auth-token")) o.net.auth_token = *v;
    else if (a == "--enable-cors-header") {
      o.net.cors_origin = "*";
      if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) o.net.cors_origin = args[++i];
    } else if (auto v = option_value(args, i, "--data-dir")) o.app.data_dir = *v;
    else if (auto v = option_value(args, i, "--output-directory")) output = *v;
    else if (auto v = option_value(args, i, "--output-dir")) output = *v;
    else if (auto v = option_value(args, i, "--input-directory")) input = *v;
    else if (auto v = option_value(args, i, "--input-dir")) input = *v;
    else if (auto v = option_value(args, i, "--temp-directory")) temp = *v;
    else if (auto v = option_value(args, i, "--temp-dir")) temp = *v;
    else if (auto v = option_value(args, i, "--models-dir")) o.app.paths.models_dir = *v;
    else if (auto v = option_value(args, i, "--device")) o.device = static_cast<int>(to_size("--device", *v, 0, 64));
    else if (auto v = option_value(args, i, "--weights")) {
      if (*v != "f32" && *v != "f16") throw UsageError("--weights must be f32 or f16, got '" + *v + "'");
      o.weights = *v;
    } else if (auto v = option_value(args, i, "--preview-method")) {
      if (*v != "auto" && *v != "none" && *v != "latent2rgb")
        throw UsageError("--preview-method must be auto, latent2rgb or none, got '" + *v + "'");
      o.previews = *v != "none";
    } else if (auto v = option_value(args, i, "--max-upload-size"))
      o.net.max_upload_bytes = o.app.max_upload_bytes = to_size("--max-upload-size", *v, 1, 4096) << 20;
    else if (auto v = option_value(args, i, "--max-body-size")) o.net.max_body_bytes = to_size("--max-body-size", *v, 1, 4096) << 20;
    else if (auto v = option_value(args, i, "--max-image-pixels"))
      o.app.max_image_pixels = to_size("--max-image-pixels", *v, 1, size_t(1) << 32);
    else if (auto v = option_value(args, i, "--max-ws-message"))
      o.net.max_ws_message_bytes = to_size("--max-ws-message", *v, 1, 1 << 20) << 10;
    else if (auto v = option_value(args, i, "--timeout")) o.net.timeout_s = static_cast<int>(to_size("--timeout", *v, 1, 3600));
    else if (auto v = option_value(args, i, "--threads")) o.threads = static_cast<int>(to_size("--threads", *v, 1, 64));
    else if (a == "--no-cache") o.cache = false;
    else if (auto v = option_value(args, i, "--device-memory")) o.device_memory = uint64_t(to_size("--device-memory", *v, 1, 1 << 20)) << 30;
    else if (a == "--skip-memory-check") o.skip_memory_check = true;
    else if (a == "--quiet" || a == "-q") o.quiet = true;
    else throw UsageError("unknown option " + a);
  }
  o.app.paths.output_dir = output.empty() ? o.app.data_dir / "output" : std::filesystem::path(output);
  o.app.paths.input_dir = input.empty() ? o.app.data_dir / "input" : std::filesystem::path(input);
  o.app.paths.temp_dir = temp.empty() ? o.app.data_dir / "temp" : std::filesystem::path(temp);
  return server::serve(o);
}

Registrar reg({"serve", "serve ComfyUI's HTTP + WebSocket API (queue, history, /view, /ws)", serve_command});

}  // namespace
}  // namespace vkf::cli
