// The device a memory plan is checked against (`vkflow run`, `vkflow validate`, and the server's POST
// /prompt: one rule): the selected device's VK_EXT_memory_budget budget where the driver reports one, else
// its largest device-local heap (a CPU device such as lavapipe allocates system RAM: at least the RAM;
// Mesa 22 reports a 2 GiB heap whatever the RAM), and the element size its weights and activations will
// use (2 where they will be f16: `weights` "f16", or "" on a GPU with 16-bit storage, as
// models::default_dtype chooses). Heap 0 (no check) when there is no device: the run then fails with the
// device error as before.
#pragma once
#include <cstdint>
#include <string>

namespace vkf::vk {

struct PlannedDevice {
  uint64_t heap = 0;
  unsigned compute_bytes = 4;
};

// `index` -1: VKFLOW_DEVICE, else device 0.
PlannedDevice planned_device(int index, const std::string& weights);

}  // namespace vkf::vk
