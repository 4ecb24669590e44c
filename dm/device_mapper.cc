#include "dm/device_mapper.h"

namespace thinpool {

Status DeviceMapper::list_devices_into(std::vector<DmDevice>& devices) {
  auto listed = list_devices();
  if (!listed) {
    return listed.error();
  }
  devices = std::move(*listed);
  return {};
}

Expected<DmStatusView> DeviceMapper::status_view(const DmDevice& device) {
  // The views point into this thread's last report, as an override's point into its buffer.
  thread_local DmReport last;
  auto report = status(device);
  if (!report) {
    return report.error();
  }
  last = std::move(*report);
  DmStatusView view;
  view.exists = last.exists;
  view.target_count = last.targets.size();
  if (view.target_count == 1) {
    view.type = last.targets[0].type;
    view.params = last.targets[0].params;
  }
  return view;
}

}  // namespace thinpool
