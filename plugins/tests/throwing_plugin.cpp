// A C++ plugin that breaks the no-exceptions rule on purpose (tests/plugins/test_plugin_loading.cpp and
// test_plugin_samplers.cpp): TP_THROW_INIT throws out of init, TP_THROW_SAMPLE out of sample(). The host
// must catch both at the boundary, report the plugin and keep working.
#include <cstring>
#include <stdexcept>

#include "vkflow_plugin.h"

namespace {

#if !defined(TP_THROW_INIT)
vkflow_result_t sample(const vkflow_sample_call_t*, vkflow_tensor_t*) {
  throw std::runtime_error("tp: thrown out of sample()");
}
#endif

vkflow_result_t init(const vkflow_host_t* host) {
#if defined(TP_THROW_INIT)
  (void)host;
  throw std::logic_error("tp: thrown out of init()");
#else
  const auto* reg = static_cast<const vkflow_samplers_t*>(host->get_capability(host, VKFLOW_CAP_SAMPLERS));
  if (!reg) return VKFLOW_UNSUPPORTED;
  vkflow_sampler_desc_t d;
  std::memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.name = "tp_throw_sample";
  d.sample = sample;
  return reg->register_sampler(host, &d);
#endif
}

}  // namespace

extern "C" VKFLOW_PLUGIN_EXPORT const vkflow_plugin_entry_t vkflow_plugin_entry = {
    VKFLOW_ABI_VERSION_INIT, sizeof(vkflow_plugin_entry_t),
#if defined(TP_THROW_INIT)
    "org.vkflow.test.throw_init",
#else
    "org.vkflow.test.throw_sample",
#endif
    "throwing test plugin", "0", init, nullptr};
