#include "tests/graph/test_nodes.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "engine/graph/node_context.h"

namespace vkf::test {

using namespace vkf::graph;

std::map<std::string, int>& exec_counts() {
  static std::map<std::string, int> m;
  return m;
}
std::vector<std::string>& exec_order() {
  static std::vector<std::string> v;
  return v;
}
void reset_counts() {
  exec_counts().clear();
  exec_order().clear();
}
int count_of(const std::string& class_type) {
  int n = 0;
  for (auto& [k, v] : exec_counts())
    if (k.rfind(class_type + "#", 0) == 0) n += v;
  return n;
}
std::string& changed_token() {
  static std::string s = "t0";
  return s;
}

graph::Graph graph_of(const std::string& json) { return Graph::parse(json, "<test graph>"); }

namespace {

void count(const NodeContext& ctx) {
  ++exec_counts()[ctx.class_type() + "#" + ctx.node_id()];
  exec_order().push_back(ctx.node_id());
}

struct Noise {
  uint64_t seed;
  int64_t base;
};
struct Latent {
  int64_t width, height;
};

// Stubs with the schemas ComfyUI declares for the nodes of the shared workflows (names, types, ranges).
std::vector<std::string> samplers() { return {"euler", "euler_ancestral", "heun", "dpmpp_2m"}; }
std::vector<std::string> schedulers() { return {"normal", "karras", "exponential", "simple"}; }

NodeDef& stub(NodeDef& d) {
  return d.execute([](NodeContext& ctx, const Inputs&) -> Outputs {
    count(ctx);
    const NodeDef& def = test_registry().get(ctx.class_type());
    Outputs o;
    for (auto& out : def.outputs()) o.push_back(Value::object(out.type, std::make_shared<int>(0)));
    return o;
  });
}

Registry build() {
  Registry r;
  auto add = [&](NodeDef d) { r.add(std::move(d)); };
  auto counted = [](auto f) {
    return [f](NodeContext& ctx, const Inputs& in) -> Outputs {
      count(ctx);
      return f(ctx, in);
    };
  };
  add(NodeDef("TestConst").input_int("value", 0, -1000, 1000).output(kInt)
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs { return {in.get_int("value")}; })));
  add(NodeDef("TestAdd").input("a", kInt).input("b", kInt).output(kInt, "sum")
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs {
            return {in.get_int("a") + in.get_int("b")};
          })));
  add(NodeDef("TestNoise").input_int("seed", 0, 0, 0xffffffffffffffffull).input("base", kInt).output("NOISE")
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs {
            return {Value::object("NOISE", std::make_shared<Noise>(Noise{in.get_uint64("seed"), in.get_int("base")}), 1000)
                        .with_summary("noise seed " + std::to_string(in.get_uint64("seed")))};
          })));
  add(NodeDef("TestNoiseValue").input("noise", "NOISE").output(kInt)
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs {
            auto& n = in.get<Noise>("noise");
            return {int64_t(n.seed % 1000) + n.base};
          })));
  add(NodeDef("TestSink").input("value", kAny).input_string("label", "").optional().output_node()
          .execute(counted([](NodeContext& ctx, const Inputs& in) -> Outputs {
            ctx.ui_append("text", in.value("value").to_json());
            return {};
          })));
  add(NodeDef("TestLatent").category("test/latent").description("widgets of every kind")
          .input_int("width", 512, 16, 4096, 8).tooltip("the width")
          .input_float("scale", 1.0, 0.0, 10.0)
          .input_combo("mode", {"fast", "slow"})
          .input_string("text", "", true)
          .input_bool("flip", false).optional()
          .output("LATENT", "latent")
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs {
            return {Value::object("LATENT", std::make_shared<Latent>(Latent{in.get_int("width"), 8}))};
          })));
  add(NodeDef("TestDecode").input("samples", "LATENT").output("IMAGE")
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs {
            return {Value::object("IMAGE", std::make_shared<Latent>(in.get<Latent>("samples")))};
          })));
  add(NodeDef("TestWrongRead").input("samples", "LATENT").output(kInt)  // reads the object as the wrong type
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs { return {int64_t(in.get<Noise>("samples").seed)}; })));
  add(NodeDef("TestFail").input("value", kInt).output(kInt)
          .execute(counted([](NodeContext&, const Inputs&) -> Outputs { throw std::runtime_error("boom"); })));
  add(NodeDef("TestSteps").input("value", kInt).input_int("steps", 5, 1, 100).output(kInt)
          .execute(counted([](NodeContext& ctx, const Inputs& in) -> Outputs {
            int64_t n = in.get_int("steps");
            for (int64_t i = 1; i <= n; ++i) {
              ctx.check_cancel();
              ctx.progress(uint64_t(i), uint64_t(n));
            }
            return {in.get_int("value")};
          })));
  // Runs until cancelled (at most 20 s), reporting progress every 5 ms: stands for a long sampler.
  add(NodeDef("TestWait").input("value", kInt).output(kInt)
          .execute(counted([](NodeContext& ctx, const Inputs& in) -> Outputs {
            for (uint64_t i = 1; i <= 4000; ++i) {
              ctx.check_cancel();
              ctx.progress(i, 4000);
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            return {in.get_int("value")};
          })));
  // Runs `ms` milliseconds, then returns: a run long enough to act during, that finishes by itself.
  add(NodeDef("TestSleep").input("value", kInt).input_int("ms", 100, 0, 5000).output(kInt)
          .execute(counted([](NodeContext& ctx, const Inputs& in) -> Outputs {
            const int64_t n = in.get_int("ms") / 5;
            for (int64_t i = 1; i <= n; ++i) {
              ctx.check_cancel();
              ctx.progress(uint64_t(i), uint64_t(n));
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            return {in.get_int("value")};
          })));
  add(NodeDef("TestVolatile").input("value", kInt).output(kInt).not_cacheable()
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs { return {in.get_int("value")}; })));
  add(NodeDef("TestChanged").input_string("file", "x.png").output(kInt)
          .is_changed([](const NodeContext&, const Inputs& in) { return in.get_string("file") + "@" + changed_token(); })
          .execute(counted([](NodeContext&, const Inputs&) -> Outputs { return {int64_t(1)}; })));
  add(NodeDef("TestRange").input_int("lo", 0, 0, 100).input_int("hi", 10, 0, 100).output(kInt)
          .validate([](const Inputs& in) -> std::string {
            return in.get_int("lo") > in.get_int("hi") ? "lo must not exceed hi" : "";
          })
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs { return {in.get_int("hi")}; })));
  add(NodeDef("TestBadCombo").input_combo("file", [] () -> std::vector<std::string> {
            throw std::runtime_error("models folder missing");
          }).output(kString)
          .execute(counted([](NodeContext&, const Inputs& in) -> Outputs { return {in.get_string("file")}; })));
  add(NodeDef("TestBadOutputs").output(kInt).output(kInt)
          .execute(counted([](NodeContext&, const Inputs&) -> Outputs { return {int64_t(1)}; })));

  // ComfyUI's classes of the shared workflows, with their ComfyUI schemas and stub bodies.
  std::vector<NodeDef> comfy;
  comfy.push_back(NodeDef("CheckpointLoaderSimple").category("loaders")
                      .input_combo("ckpt_name", [] {
                        return std::vector<std::string>{"v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors",
                                                        "sd_xl_refiner_1.0.safetensors"};
                      })
                      .output("MODEL").output("CLIP").output("VAE"));
  comfy.push_back(NodeDef("CLIPTextEncode").input_string("text", "", true).input("clip", "CLIP").output("CONDITIONING"));
  comfy.push_back(NodeDef("ConditioningZeroOut").input("conditioning", "CONDITIONING").output("CONDITIONING"));
  comfy.push_back(NodeDef("EmptyLatentImage").input_int("width", 512, 16, 16384, 8).input_int("height", 512, 16, 16384, 8)
                      .input_int("batch_size", 1, 1, 4096).output("LATENT"));
  comfy.push_back(NodeDef("KSampler").input("model", "MODEL").input_int("seed", 0, 0, 0xffffffffffffffffull)
                      .input_int("steps", 20, 1, 10000).input_float("cfg", 8.0, 0.0, 100.0, 0.1)
                      .input_combo("sampler_name", samplers()).input_combo("scheduler", schedulers())
                      .input("positive", "CONDITIONING").input("negative", "CONDITIONING")
                      .input("latent_image", "LATENT").input_float("denoise", 1.0, 0.0, 1.0).output("LATENT"));
  comfy.push_back(NodeDef("KSamplerAdvanced").input("model", "MODEL").input_combo("add_noise", {"enable", "disable"})
                      .input_int("noise_seed", 0, 0, 0xffffffffffffffffull).input_int("steps", 20, 1, 10000)
                      .input_float("cfg", 8.0, 0.0, 100.0, 0.1).input_combo("sampler_name", samplers())
                      .input_combo("scheduler", schedulers()).input("positive", "CONDITIONING")
                      .input("negative", "CONDITIONING").input("latent_image", "LATENT")
                      .input_int("start_at_step", 0, 0, 10000).input_int("end_at_step", 10000, 0, 10000)
                      .input_combo("return_with_leftover_noise", {"disable", "enable"}).output("LATENT"));
  comfy.push_back(NodeDef("VAEDecode").input("samples", "LATENT").input("vae", "VAE").output("IMAGE"));
  comfy.push_back(NodeDef("SaveImage").input("images", "IMAGE").input_string("filename_prefix", "ComfyUI").output_node());
  for (auto& d : comfy) add(std::move(stub(d)));
  return r;
}

}  // namespace

const Registry& test_registry() {
  static const Registry r = build();
  return r;
}

}  // namespace vkf::test
