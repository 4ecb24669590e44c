// A device-mapper state served through the kernel's ioctl ABI, so that a benchmark times the
// exporter's real kernel path (LibDevmapperClient, DmIoctl: buffers, reply parsing) rather than
// FakeDeviceMapper's text lookups.
//
// Every reply is laid out as drivers/md/dm-ioctl.c lays it out (struct dm_ioctl, then
// dm_target_specs with their parameter strings, or dm_name_list records) and built once from a
// FakeDeviceMapper's state; an ioctl copies the device's prebuilt reply into the caller's buffer,
// or sets DM_BUFFER_FULL_FLAG when it does not fit, which is the work the kernel's copy_to_user
// stands for. What the kernel itself spends (its locks, the pool metadata lookup) is not here:
// that is the VM benchmark's floor program.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "dm/dm_ioctl.h"
#include "dm/fake_device_mapper.h"

namespace thinpool::bench {

class KernelReplies {
 public:
  explicit KernelReplies(FakeDeviceMapper& state);

  // A control device answering DM_LIST_DEVICES, DM_TABLE_STATUS (status and table),
  // DM_DEV_STATUS and DM_DEV_ARM_POLL; the event poll says nothing changed after the first arm.
  // The replies must outlive it.
  ControlDevice control();

  // The floor of a scrape's calls: DM_LIST_DEVICES, then DM_TABLE_STATUS (noflush, 1 KiB
  // buffer, by device number) for each device, nothing parsed; what bench/vm_ioctl_cost's floor
  // mode does on the real kernel. Returns the number of calls that failed.
  static int floor_pass(const ControlDevice& control, const std::vector<DmDevice>& devices);

 private:
  int answer(unsigned long request, void* buffer) const;

  std::vector<uint64_t> list_;  // the list reply, 8-byte aligned as the kernel's buffer is
  struct Device {
    std::vector<uint64_t> status;
    std::vector<uint64_t> table;
    std::vector<uint64_t> info;
  };
  std::unordered_map<uint64_t, Device> devices_;  // by dev_t
};

}  // namespace thinpool::bench
