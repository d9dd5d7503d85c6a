#include "engine/plugin/plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>

#include "engine/plugin/plugin_internal.h"

namespace vkf::plugin {
namespace fs = std::filesystem;

namespace {

struct State {
  std::mutex mu;
  std::vector<PluginInfo> reports;
  std::set<std::string> paths;                 // canonical paths tried
  std::vector<std::shared_ptr<Library>> libs;  // loaded: kept for the process lifetime
};
State& state() {
  static State* s = new State;  // never destroyed: plugins stay mapped until exit (no unload order issues)
  return *s;
}

std::string ver(const vkflow_version_t& v) { return std::to_string(v.major) + "." + std::to_string(v.minor); }

const void* host_get_capability(const vkflow_host_t*, const char* id) {
  if (!id) return nullptr;
  if (!std::strcmp(id, VKFLOW_CAP_TENSOR_OPS)) return tensor_ops();
  if (!std::strcmp(id, VKFLOW_CAP_KERNELS)) return kernels_table();
  return nullptr;
}

void host_log(const vkflow_host_t* host, int32_t level, const char* message) {
  if (level < VKFLOW_LOG_WARNING && !std::getenv("VKFLOW_PLUGIN_DEBUG")) return;
  const auto* lib = host ? static_cast<const Library*>(host->host_data) : nullptr;
  std::cerr << "vkflow: " << (lib ? lib->who : std::string("plugin")) << ": "
            << (level >= VKFLOW_LOG_ERROR ? "error: " : level == VKFLOW_LOG_WARNING ? "warning: " : "")
            << (message ? message : "(null)") << "\n";
}

// Copies a plugin sampler descriptor, reading only what its struct_size covers.
sampling::SamplerDesc convert(const Library& lib, const vkflow_sampler_desc_t& d,
                              const std::shared_ptr<const Library>& keep) {
  constexpr size_t kV10 = offsetof(vkflow_sampler_desc_t, description);  // the 1.0 struct ends here
  if (d.struct_size < kV10)
    throw sampling::SamplingError("sampler descriptor struct_size " + std::to_string(d.struct_size) +
                                  " is smaller than ABI 1.0's " + std::to_string(kV10));
  sampling::SamplerDesc s;
  s.name = d.name ? d.name : "";
  const std::string who = "sampler '" + s.name + "'";
  s.display_name = d.display_name ? d.display_name : s.name;
  if (d.struct_size >= kV10 + sizeof(const char*) && d.description) s.description = d.description;
  s.origin = "plugin " + lib.path;
  const uint32_t known = VKFLOW_SAMPLER_NEEDS_UNCOND | VKFLOW_SAMPLER_DISCARDS_PENULTIMATE | VKFLOW_SAMPLER_STOCHASTIC;
  if (d.flags & ~known) throw sampling::SamplingError(who + ": unknown flag bits " + std::to_string(d.flags & ~known));
  s.needs_uncond = d.flags & VKFLOW_SAMPLER_NEEDS_UNCOND;
  s.discards_penultimate = d.flags & VKFLOW_SAMPLER_DISCARDS_PENULTIMATE;
  s.stochastic = d.flags & VKFLOW_SAMPLER_STOCHASTIC;
  if (!d.sample) throw sampling::SamplingError(who + ": sample is NULL");
  if (d.param_count > 64 || (d.param_count && !d.params))
    throw sampling::SamplingError(who + ": params must hold param_count (<= 64) entries");
  // Params are an array: its stride is the plugin's sizeof(vkflow_param_desc_t), taken from params[0].
  const size_t stride = d.param_count ? d.params[0].struct_size : 0;
  constexpr size_t kParamV10 = offsetof(vkflow_param_desc_t, step) + sizeof(double);
  for (uint32_t i = 0; i < d.param_count; ++i) {
    const auto* p = reinterpret_cast<const vkflow_param_desc_t*>(reinterpret_cast<const char*>(d.params) + i * stride);
    if (p->struct_size != stride || stride < kParamV10)
      throw sampling::SamplingError(who + ": parameter " + std::to_string(i) + " has struct_size " +
                                    std::to_string(p->struct_size) + " (expected " + std::to_string(std::max(stride, kParamV10)) + ")");
    sampling::SamplerParam q;
    q.name = p->name ? p->name : "";
    if (p->tooltip) q.tooltip = p->tooltip;
    if (p->type > VKFLOW_PARAM_BOOL) throw sampling::SamplingError(who + ": parameter '" + q.name + "' has an unknown type");
    q.type = p->type == VKFLOW_PARAM_FLOAT ? sampling::SamplerParam::Type::Float
             : p->type == VKFLOW_PARAM_INT ? sampling::SamplerParam::Type::Int
                                           : sampling::SamplerParam::Type::Bool;
    q.def = p->default_value;
    q.min = p->min_value;
    q.max = p->max_value;
    q.step = p->step;
    s.params.push_back(std::move(q));
  }
  s.run = make_plugin_run(keep, d);
  sampling::validate_sampler_desc(s);
  return s;
}

// Set by load_plugin around init: register_sampler needs the shared_ptr of the library being loaded.
thread_local std::shared_ptr<Library> t_loading;

vkflow_result_t host_register_sampler(const vkflow_host_t* host, const vkflow_sampler_desc_t* desc) {
  if (!host || !host->host_data) return VKFLOW_INVALID_ARGUMENT;
  auto* lib = static_cast<Library*>(host->host_data);
  auto fail = [&](const std::string& why) {
    if (lib->registration_error.empty()) lib->registration_error = why;
    host_log(host, VKFLOW_LOG_ERROR, why.c_str());
    return VKFLOW_INVALID_ARGUMENT;
  };
  if (!lib->in_init || t_loading.get() != lib) return fail("register_sampler called outside init");
  if (!desc) return fail("register_sampler: desc is NULL");
  try {
    sampling::SamplerDesc s = convert(*lib, *desc, t_loading);
    if (auto other = sampling::sampler_registry().find(s.name))
      return fail("sampler '" + s.name + "' is already registered (by " + other->origin + ")");
    for (const auto& p : lib->pending)
      if (p.name == s.name) return fail("sampler '" + s.name + "' registered twice");
    lib->pending.push_back(std::move(s));
    return VKFLOW_OK;
  } catch (const std::exception& e) {
    return fail(std::string("malformed sampler descriptor: ") + e.what());
  }
}

const vkflow_samplers_t kSamplers = {sizeof(vkflow_samplers_t), host_register_sampler};

const void* get_capability(const vkflow_host_t* h, const char* id) {
  if (id && !std::strcmp(id, VKFLOW_CAP_SAMPLERS)) return &kSamplers;
  return host_get_capability(h, id);
}

// The load steps after dlopen; throws std::runtime_error with the reason.
void init_library(const std::shared_ptr<Library>& lib, PluginInfo& info) {
  void* sym = dlsym(lib->handle, VKFLOW_PLUGIN_ENTRY_SYMBOL);
  if (!sym) throw std::runtime_error("no entry symbol '" VKFLOW_PLUGIN_ENTRY_SYMBOL "' (not a vkflow plugin?)");
  const auto* e = static_cast<const vkflow_plugin_entry_t*>(sym);
  lib->entry = e;
  lib->abi = e->abi_version;  // always the first field, whatever the version
  info.abi = ver(lib->abi);
  const std::string mine = host_abi_version();
  if (lib->abi.major != VKFLOW_ABI_MAJOR)
    throw std::runtime_error("built for ABI " + info.abi + ", this vkflow implements " + mine +
                             " (another major version: rebuild the plugin against this vkflow's vkflow_plugin.h)");
  if (lib->abi.minor > VKFLOW_ABI_MINOR)
    throw std::runtime_error("built for ABI " + info.abi + ", newer than this vkflow's " + mine + " (update vkflow)");
  constexpr size_t kEntryV10 = offsetof(vkflow_plugin_entry_t, deinit);  // deinit is read only when covered
  if (e->struct_size < kEntryV10)
    throw std::runtime_error("entry struct_size " + std::to_string(e->struct_size) + " is smaller than ABI 1.0's " +
                             std::to_string(kEntryV10));
  if (!e->plugin_id || !*e->plugin_id) throw std::runtime_error("entry has no plugin_id");
  if (!e->init) throw std::runtime_error("entry has no init function");
  info.id = e->plugin_id;
  info.name = e->plugin_name ? e->plugin_name : info.id;
  info.version = e->plugin_version ? e->plugin_version : "";
  lib->who = "plugin '" + info.id + "' (" + lib->path + ")";
  for (const auto& other : state().libs)
    if (other->entry->plugin_id && info.id == other->entry->plugin_id)
      throw std::runtime_error("plugin id '" + info.id + "' is already loaded from " + other->path);
  lib->host.struct_size = sizeof(vkflow_host_t);
  lib->host.abi_version = VKFLOW_ABI_VERSION_INIT;
  lib->host.host_name = "vkflow";
  lib->host.host_version = "0.1";
  lib->host.host_data = lib.get();
  lib->host.get_capability = get_capability;
  lib->host.log = host_log;
  lib->in_init = true;
  t_loading = lib;
  vkflow_result_t rc;
  try {
    rc = e->init(&lib->host);
  } catch (...) {
    rc = VKFLOW_ERROR;
    lib->registration_error = "an exception escaped init";
  }
  t_loading.reset();
  lib->in_init = false;
  if (rc != VKFLOW_OK)
    throw std::runtime_error("init failed (code " + std::to_string(rc) + ")" +
                             (lib->registration_error.empty() ? "" : ": " + lib->registration_error));
  lib->initialized = true;
  if (!lib->registration_error.empty()) throw std::runtime_error(lib->registration_error);
  if (lib->pending.empty()) throw std::runtime_error("init registered no sampler");
  std::vector<std::string> added;
  try {
    for (auto& s : lib->pending) {
      const std::string n = s.name;
      sampling::sampler_registry().add(std::move(s));
      added.push_back(n);
    }
  } catch (const std::exception&) {
    for (const auto& n : added) sampling::sampler_registry().remove(n);
    throw;
  }
  lib->pending.clear();
  info.samplers = added;
}

}  // namespace

Library::~Library() {
  if (initialized && entry && entry->struct_size >= sizeof(vkflow_plugin_entry_t) && entry->deinit) entry->deinit();
  if (handle) dlclose(handle);
}

std::string host_abi_version() { return std::to_string(VKFLOW_ABI_MAJOR) + "." + std::to_string(VKFLOW_ABI_MINOR); }

PluginInfo load_plugin(const fs::path& file) {
  PluginInfo info;
  std::error_code ec;
  const fs::path canon = fs::weakly_canonical(file, ec);
  info.path = (ec ? file : canon).string();
  auto& st = state();
  std::lock_guard lock(st.mu);
  auto report = [&](std::string why) {
    info.error = std::move(why);
    st.reports.push_back(info);
    return info;
  };
  if (!st.paths.insert(info.path).second) return report("already loaded");
  if (!fs::is_regular_file(file, ec)) return report("not a file");
  auto lib = std::make_shared<Library>();
  lib->path = info.path;
  lib->who = "plugin " + info.path;
  // RTLD_LOCAL: two plugins' own symbols never collide; RTLD_NOW: missing symbols fail here, not mid-run.
  lib->handle = dlopen(info.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char* err = dlerror();
    return report(std::string("cannot load: ") + (err ? err : "unknown dlopen error"));
  }
  try {
    init_library(lib, info);
  } catch (const std::exception& e) {
    lib->pending.clear();  // their run functions hold `lib`: break the cycle so it unloads now
    return report(e.what());
  }
  info.loaded = true;
  st.libs.push_back(lib);
  st.reports.push_back(info);
  return info;
}

std::vector<fs::path> plugin_dirs(const std::string& dir, const std::string& models_dir) {
  std::vector<fs::path> d;
  if (!dir.empty()) return {fs::path(dir)};
  fs::path models = models_dir.empty() ? fs::path("models") : fs::path(models_dir);
  if (!models.has_filename()) models = models.parent_path();  // "models/" -> "models"
  d.push_back((models / ".." / "plugins").lexically_normal());
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && *xdg) d.push_back(fs::path(xdg) / "vkflow" / "plugins");
  else if (home && *home) d.push_back(fs::path(home) / ".local" / "share" / "vkflow" / "plugins");
  return d;
}

std::vector<fs::path> plugin_files(const std::vector<fs::path>& dirs) {
  std::vector<fs::path> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<fs::path> here;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      const auto ext = e.path().extension();
      if ((ext == ".so" || ext == ".dylib" || ext == ".dll") && e.is_regular_file(ec)) here.push_back(e.path());
    }
    std::sort(here.begin(), here.end());
    out.insert(out.end(), here.begin(), here.end());
  }
  return out;
}

std::vector<PluginInfo> load_plugins(const std::string& dir, const std::vector<std::string>& files,
                                     const std::string& models_dir) {
  std::vector<fs::path> all = plugin_files(plugin_dirs(dir, models_dir));
  all.insert(all.end(), files.begin(), files.end());
  std::vector<PluginInfo> out;
  for (const auto& f : all) {
    out.push_back(load_plugin(f));
    const auto& r = out.back();
    if (!r.loaded && r.error != "already loaded")
      std::cerr << "vkflow: plugin " << r.path << " skipped: " << r.error << "\n";
  }
  return out;
}

std::vector<PluginInfo> plugin_reports() {
  std::lock_guard lock(state().mu);
  return state().reports;
}

}  // namespace vkf::plugin
