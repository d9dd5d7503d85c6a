#include "engine/graph/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "engine/graph/literals.h"
#include "engine/graph/order.h"
#include "engine/vk/allocator.h"
#include "engine/vk/context.h"

namespace vkf::graph {

namespace {

// 128-bit signature as hex: two FNV-1a streams with different bases, each finished with splitmix64.
std::string hash128(const std::string& s) {
  auto fnv = [&](uint64_t h) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h ^= h >> 30, h *= 0xbf58476d1ce4e5b9ull, h ^= h >> 27, h *= 0x94d049bb133111ebull, h ^= h >> 31;
    return h;
  };
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)fnv(0xcbf29ce484222325ull),
                (unsigned long long)fnv(0x6a09e667f3bcc909ull));
  return buf;
}

bool output_type_ok(const std::string& declared, const Value& v) {
  if (v.is_none() || declared == kAny) return true;
  if (declared == kFloat && v.kind() == Value::Kind::Int) return true;
  if (declared == kCombo && v.kind() == Value::Kind::String) return true;
  return types_match(v.type(), declared);
}

NodeStats stats_of(const Outputs& outs, bool cached) {
  NodeStats st;
  st.cached = cached;
  for (auto& v : outs) st.bytes += v.bytes(), st.output_types.push_back(v.type()), st.output_summaries.push_back(v.summary());
  return st;
}

}  // namespace

void check_outputs(const NodeDef& def, const Outputs& outs) {
  if (outs.size() != def.outputs().size())
    throw GraphError("returned " + std::to_string(outs.size()) + " value(s) but declares " +
                     std::to_string(def.outputs().size()) + " output(s)");
  for (size_t i = 0; i < outs.size(); ++i)
    if (!output_type_ok(def.outputs()[i].type, outs[i]))
      throw GraphError("output " + std::to_string(i) + " (" + def.outputs()[i].name + ") is declared " +
                       def.outputs()[i].type + " but the node returned " + outs[i].describe());
}

Executor::Executor(CacheOptions cache, const Registry& reg) : reg_(reg), cache_(cache) {}

std::string Executor::signature(const Graph& g, const Node& n, const std::map<std::string, std::string>& sigs,
                                const RunEnv& env, const nlohmann::json& prompt, const nlohmann::json& extra) {
  (void)g;
  const NodeDef& def = reg_.get(n.class_type);
  std::string s = "class=" + n.class_type + "\n";
  if (def.is_output_node()) s += "id=" + n.id + "\n";  // two identical sinks are still two results
  Inputs literals(n.id, n.class_type);
  for (auto& spec : def.inputs()) {
    auto it = n.inputs().find(spec.name);
    s += spec.name + "=";
    if (it == n.inputs().end()) {
      s += "<absent>\n";
    } else if (auto l = is_link(*it) ? parse_link(*it) : std::nullopt) {
      s += "@" + sigs.at(l->node) + ":" + std::to_string(l->output) + "\n";
    } else {
      Value v = *coerce_literal(spec, *it, nullptr);  // validated before
      s += v.to_json().dump() + "\n";
      literals.set(spec.name, std::move(v));
    }
  }
  if (def.is_changed_fn()) {
    NodeContext ctx(n.id, n.class_type, env, prompt, extra);
    s += "changed=" + def.is_changed_fn()(ctx, literals) + "\n";
  }
  if (!def.is_cacheable()) s += "run=" + std::to_string(++uncacheable_runs_) + "\n";
  return hash128(s);
}

Inputs Executor::resolve_inputs(const Node& n, const NodeDef& def, const std::map<std::string, Outputs>& store) const {
  Inputs in(n.id, n.class_type);
  for (auto& spec : def.inputs()) {
    auto it = n.inputs().find(spec.name);
    if (it == n.inputs().end()) continue;
    if (is_link(*it)) {
      Link l = *parse_link(*it);
      auto src = store.find(l.node);
      if (src == store.end() || l.output >= (int)src->second.size())
        throw GraphError("input '" + spec.name + "': output " + std::to_string(l.output) + " of node " + l.node +
                         " is not available");
      in.set(spec.name, src->second[l.output]);
    } else {
      in.set(spec.name, *coerce_literal(spec, *it, nullptr));
    }
  }
  return in;
}

std::string Executor::signatures(const Graph& g, const std::vector<std::string>& outputs, const RunEnv& env,
                                 std::map<std::string, std::string>& sigs, std::string& err) {
  const nlohmann::json prompt = g.prompt(), extra = g.extra_pnginfo();
  auto scope = ancestors_of(g, outputs, reg_);
  for (auto& id : topo_order(g, scope, reg_)) {
    const Node& n = *g.find(id);
    try {
      sigs[id] = signature(g, n, sigs, env, prompt, extra);
    } catch (const std::exception& e) {
      err = std::string("while checking for changes: ") + e.what();
      return id;
    }
  }
  return "";
}

std::set<std::string> Executor::to_run(const Graph& g, const std::vector<std::string>& outputs,
                                       const std::map<std::string, std::string>& sigs, bool peek,
                                       std::map<std::string, const CacheEntry*>& hits) {
  std::set<std::string> run, seen;
  std::vector<std::string> stack(outputs.rbegin(), outputs.rend());
  while (!stack.empty()) {
    std::string id = stack.back();
    stack.pop_back();
    if (!seen.insert(id).second) continue;
    const Node& n = *g.find(id);
    const NodeDef& def = reg_.get(n.class_type);
    if (def.is_cacheable())
      if (const CacheEntry* hit = peek ? cache_.peek(sigs.at(id)) : cache_.find(sigs.at(id))) {
        hits[id] = hit;
        continue;
      }
    run.insert(id);
    for (auto& [_, l] : node_links(g, n, reg_)) stack.push_back(l.node);
  }
  return run;
}

std::vector<std::string> Executor::cached_nodes(const Graph& g, const std::map<std::string, std::string>& sigs,
                                               const std::set<std::string>& to_run) const {
  std::vector<std::string> ids;
  for (auto& [id, sig] : sigs)
    if (!to_run.count(id) && reg_.get(g.find(id)->class_type).is_cacheable() && cache_.peek(sig)) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), id_less);
  return ids;
}

RunPlan Executor::plan(const Graph& g, const RunEnv& env) {
  RunPlan p;
  p.validation = validate(g, reg_, env.paths);
  if (!p.validation.ok()) return p;
  std::map<std::string, std::string> sigs;
  if (std::string bad = signatures(g, p.validation.outputs, env, sigs, p.error); !bad.empty()) {
    p.error = "node " + bad + ": " + p.error;
    return p;
  }
  std::map<std::string, const CacheEntry*> hits;
  std::set<std::string> run = to_run(g, p.validation.outputs, sigs, true, hits);
  p.to_run = topo_order(g, run, reg_);
  for (auto& [id, _] : hits) p.cached.push_back(id);
  std::sort(p.cached.begin(), p.cached.end(), id_less);
  return p;
}

RunResult Executor::run(const Graph& g, const RunEnv& env) {
  RunResult res;
  res.validation = validate(g, reg_, env.paths);
  if (!res.validation.ok()) {
    res.status = RunStatus::Invalid;
    return res;
  }
  const nlohmann::json prompt = g.prompt(), extra = g.extra_pnginfo();
  auto emit = [&](Event e) {
    if (env.on_event) env.on_event(e);
  };
  auto fail = [&](RunStatus st, const std::string& id, const std::string& cls, const std::string& msg) {
    res.status = st;
    res.error_node = id, res.error_class = cls, res.error_message = msg;
    Event e;
    e.type = st == RunStatus::Interrupted ? EventType::ExecutionInterrupted : EventType::ExecutionError;
    e.node = id, e.class_type = cls, e.message = msg, e.nodes = res.executed;
    emit(e);
    return res;
  };
  emit(Event{EventType::ExecutionStart});

  const auto& outputs = res.validation.outputs;
  std::map<std::string, std::string> sigs;
  std::string sig_err;
  if (std::string bad = signatures(g, outputs, env, sigs, sig_err); !bad.empty())
    return fail(RunStatus::Error, bad, g.find(bad)->class_type, sig_err);

  // What runs: walk up from the outputs, stopping at nodes whose outputs are cached. Cached outputs are
  // copied into `store` now, so evictions during this run cannot take them away.
  std::map<std::string, Outputs> store;
  std::map<std::string, nlohmann::json> cached_ui;
  std::map<std::string, const CacheEntry*> hits;
  std::set<std::string> to_run = this->to_run(g, outputs, sigs, false, hits);
  for (auto& [id, hit] : hits) {
    store[id] = hit->outputs;
    cached_ui[id] = hit->ui;
    res.cached.push_back(id);
    res.stats[id] = stats_of(hit->outputs, true);
  }
  std::sort(res.cached.begin(), res.cached.end(), id_less);
  Event cached_ev{EventType::ExecutionCached};
  cached_ev.nodes = cached_nodes(g, sigs, to_run);
  emit(cached_ev);
  // Cached nodes above a served one are not needed, but their values are still there: report them too
  // (stats, and outputs when kept), so a viewer can inspect every link of the graph after any run.
  for (auto& id : cached_ev.nodes)
    if (!res.stats.count(id))
      if (const CacheEntry* hit = cache_.peek(sigs.at(id))) {
        res.stats[id] = stats_of(hit->outputs, true);
        if (keep_outputs_) store[id] = hit->outputs;
      }
  for (auto& id : res.cached) {
    if (cached_ui[id].empty()) continue;
    res.ui[id] = cached_ui[id];
    Event e{EventType::Executed};
    e.node = id, e.class_type = g.find(id)->class_type, e.output = cached_ui[id];
    emit(e);
  }

  // How many consumers still need each output: without a cache, intermediates are dropped (GPU memory)
  // as soon as their last consumer has run.
  std::vector<std::string> order = topo_order(g, to_run, reg_);
  std::map<std::string, int> remaining;
  for (auto& id : order)
    for (auto& [_, l] : node_links(g, *g.find(id), reg_)) ++remaining[l.node];

  for (size_t i = 0; i < order.size(); ++i) {
    const Node& n = *g.find(order[i]);
    const NodeDef& def = reg_.get(n.class_type);
    if (env.cancel && env.cancel->load()) return fail(RunStatus::Interrupted, n.id, n.class_type, "interrupted");
    Event ev{EventType::Executing};
    ev.node = n.id, ev.class_type = n.class_type, ev.index = i + 1, ev.total = order.size();
    emit(ev);
    NodeContext ctx(n.id, n.class_type, env, prompt, extra, i + 1, order.size());
    Outputs outs;
    // The GPU context exists once some node started it (a graph of primitives never does).
    auto gpu_now = [&] {
      return env.services ? std::static_pointer_cast<vk::Context>(env.services->peek_raw(kGpuService)) : nullptr;
    };
    auto gpu = gpu_now();
    double gpu0 = 0;
    if (gpu) gpu->set_gpu_timing(env.node_profile);
    if (gpu && env.node_profile) gpu->allocator().reset_window_peak(), gpu0 = gpu->gpu_ms_total();
    auto t0 = std::chrono::steady_clock::now();
    try {
      Inputs in = resolve_inputs(n, def, store);
      outs = def.execute_fn()(ctx, in);
      check_outputs(def, outs);
    } catch (const Interrupted&) {
      return fail(RunStatus::Interrupted, n.id, n.class_type, "interrupted");
    } catch (const std::exception& e) {
      return fail(RunStatus::Error, n.id, n.class_type, e.what());
    }
    res.executed.push_back(n.id);
    NodeStats st = stats_of(outs, false);
    st.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (env.node_profile && gpu) {
      if (gpu->gpu_timing()) st.gpu_ms = gpu->gpu_ms_total() - gpu0;
      st.peak_bytes = gpu->allocator().stats().window_peak_bytes;
    } else if (auto started = env.node_profile ? gpu_now() : nullptr) {  // this node started the GPU
      st.peak_bytes = started->allocator().stats().peak_live_bytes;
    }
    res.stats[n.id] = std::move(st);
    if (def.is_cacheable()) cache_.put(sigs.at(n.id), CacheEntry{outs, ctx.ui(), 0});
    store[n.id] = std::move(outs);
    if (!ctx.ui().empty()) {
      res.ui[n.id] = ctx.ui();
      Event e{EventType::Executed};
      e.node = n.id, e.class_type = n.class_type, e.output = ctx.ui(), e.index = i + 1, e.total = order.size();
      emit(e);
    }
    for (auto& [_, l] : node_links(g, n, reg_))
      if (--remaining[l.node] == 0 && !keep_outputs_) store.erase(l.node);
  }
  if (keep_outputs_) res.outputs = std::move(store);
  emit(Event{EventType::ExecutionSuccess});
  return res;
}

}  // namespace vkf::graph
