#include "engine/vk/planned_device.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "engine/vk/context.h"

namespace vkf::vk {

PlannedDevice planned_device(int index, const std::string& weights) {
  std::vector<DeviceInfo> devs;
  try {
    devs = list_devices();
  } catch (const std::exception&) {
    return {};
  }
  if (devs.empty()) return {};
  if (index < 0)
    if (const char* e = std::getenv("VKFLOW_DEVICE"); e && *e) index = std::atoi(e);
  const DeviceInfo& d = index >= 0 && size_t(index) < devs.size() ? devs[size_t(index)] : devs[0];
  PlannedDevice p;
  p.heap = d.device_local_budget_bytes ? d.device_local_budget_bytes : d.device_local_bytes;
  if (d.is_cpu()) p.heap = std::max<uint64_t>(p.heap, uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE)));
  const bool f16 = d.fp16_storage && (weights == "f16" || (weights.empty() && !d.is_cpu()));
  p.compute_bytes = f16 ? 2 : 4;
  return p;
}

}  // namespace vkf::vk
