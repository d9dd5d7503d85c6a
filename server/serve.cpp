#include "server/serve.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "engine/graph/exec_queue.h"
#include "engine/graph/services.h"
#include "engine/vk/planned_device.h"
#include "server/device_stats.h"

namespace vkf::server {

int serve(const ServeOptions& o) {
  // Signals go to sigwait below, never to a worker thread (blocked before any thread starts).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  graph::RunEnv env;
  env.paths = o.app.paths;
  // Requests name files only below the server's folders: no absolute model or image paths (the CLI allows
  // them, its user means them), and LoadImage decodes no more than an upload may hold.
  env.paths.allow_absolute_inputs = false;
  env.limits.max_image_pixels = o.app.max_image_pixels;
  env.previews = o.previews;
  const int device = o.device;
  env.services->set_factory(graph::kGpuService, [device] { return graph::make_gpu_service(device); });
  if (!o.weights.empty()) env.services->set(graph::kWeightsDtypeService, std::make_shared<std::string>(o.weights));
  for (auto* d : {&env.paths.output_dir, &env.paths.input_dir, &env.paths.temp_dir}) std::filesystem::create_directories(*d);

  try {
    WsHub hub;
    AppOptions app_opt = o.app;
    app_opt.device = o.device;
    if (!o.skip_memory_check) {  // POST /prompt checks the memory plan against the device, as `vkflow run`
      const vk::PlannedDevice pd = vk::planned_device(o.device, o.weights);
      app_opt.device_memory_bytes = o.device_memory ? o.device_memory : pd.heap;
      app_opt.compute_bytes = pd.compute_bytes;
    }
    App app(app_opt, hub);
    hub.on_connect = [&app](const std::string& sid) { return app.status_message(sid); };
    graph::CacheOptions cache;
    cache.enabled = o.cache;
    graph::ExecQueue queue(env, cache, *o.app.registry);
    app.attach(&queue);
    const bool quiet = o.quiet;
    Listener listener(o.net, [&app, quiet](const Request& req) {
      Response r = app.handle(req);
      if (!quiet)
        std::fprintf(stderr, "%s %.*s -> %d\n", req.method.c_str(), static_cast<int>(std::min<size_t>(req.target.size(), 200)),
                     req.target.data(), r.status);
      return r;
    }, hub);
    listener.start(o.threads);
    std::printf("vkflow serve: listening on http://%s:%u (data %s)\n", o.net.listen.c_str(), listener.port(),
                o.app.data_dir.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "vkflow serve: signal %d, stopping\n", sig);
    listener.stop();
    app.stopping();  // the running prompt stays queued for the next start
    queue.interrupt();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkflow serve: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace vkf::server
