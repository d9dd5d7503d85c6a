// One SAMPLER node per sampler that declares parameters (plugin samplers do; e.g. PluginSampler_pc_ve with
// inputs snr and corrector_steps), registered when the sampler is: its inputs are the declared
// parameters with their defaults and ranges, so they show in /object_info (`vkflow nodes --json`).
// Samplers without parameters need no node of their own: KSamplerSelect and KSampler list every
// registered sampler. A sampler that is removed again (a plugin's registration rolled back) takes its node
// with it, so no class is listed that names a sampler nobody can run.
#include <iostream>
#include <mutex>
#include <set>

#include "engine/graph/node_context.h"
#include "engine/graph/registry.h"
#include "nodes/value_types.h"
#include "nodes/sampling_values.h"

namespace vkf::nodes {
namespace {

using namespace graph;

// The node classes made here (never another file's class of the same name).
std::mutex g_mu;
std::set<std::string> g_made;

void add_sampler_node(const sampling::SamplerDesc& d) {
  if (d.params.empty() && d.origin == "built-in") return;
  NodeDef def("PluginSampler_" + d.name);
  def.display(d.display_name + " (" + (d.origin == "built-in" ? "sampler" : "plugin") + ")")
      .category("sampling/custom_sampling/samplers")
      .description(d.description.empty() ? "Sampler '" + d.name + "' from " + d.origin
                                          : d.description + " (" + d.origin + ")");
  for (const auto& p : d.params) {
    switch (p.type) {
      case sampling::SamplerParam::Type::Float: def.input_float(p.name, p.def, p.min, p.max, p.step); break;
      case sampling::SamplerParam::Type::Int:
        def.input_int(p.name, int64_t(p.def), int64_t(p.min), int64_t(p.max), p.step >= 1 ? int64_t(p.step) : 1);
        break;
      case sampling::SamplerParam::Type::Bool: def.input_bool(p.name, p.def != 0.0); break;
    }
    if (!p.tooltip.empty()) def.tooltip(p.tooltip);
  }
  const std::string name = d.name;
  const std::vector<sampling::SamplerParam> params = d.params;
  def.output("SAMPLER").execute([name, params](NodeContext&, const Inputs& in) -> Outputs {
    SamplerValue v{name, {}};
    for (const auto& p : params)
      v.options.params[p.name] = p.type == sampling::SamplerParam::Type::Float ? in.get_float(p.name)
                                 : p.type == sampling::SamplerParam::Type::Int ? double(in.get_int(p.name))
                                                                               : (in.get_bool(p.name) ? 1.0 : 0.0);
    return {make_value("SAMPLER", std::move(v))};
  });
  try {
    const std::string cls = def.class_type();
    std::lock_guard lock(g_mu);
    Registry::instance().add(std::move(def));
    g_made.insert(cls);
  } catch (const std::exception& e) {  // e.g. a node class of that name exists already
    std::cerr << "vkflow: no node for sampler '" << d.name << "': " << e.what() << "\n";
  }
}

void remove_sampler_node(const sampling::SamplerDesc& d) {
  const std::string cls = "PluginSampler_" + d.name;
  std::lock_guard lock(g_mu);
  if (g_made.erase(cls)) Registry::instance().retire(cls);
}

// Plugins load from main() (after static initialisation), so the subscription sees them as they come.
struct Subscribe {
  Subscribe() {
    sampling::sampler_registry().subscribe([](const sampling::SamplerDesc& d, bool added) {
      if (added) add_sampler_node(d);
      else remove_sampler_node(d);
    });
  }
} subscribe;

}  // namespace
}  // namespace vkf::nodes
