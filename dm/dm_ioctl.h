// The device-mapper ioctls of every scrape, issued directly on /dev/mapper/control, without
// libdevmapper: the device list, a device's status or table, its info, and the global event poll.
//
// libdevmapper allocates and zeroes a 16 KiB buffer for every task and the kernel copies all of
// it in and out; a thin device's reply is about 400 bytes. Here each thread keeps one buffer,
// offers the kernel 1 KiB and doubles it while the kernel says the buffer is full
// (DM_BUFFER_FULL_FLAG). No lock is held across an ioctl: a call blocked on a hung device stops
// only its own thread. libdevmapper's list also refuses names outside its character whitelist
// (a quote, a backslash, a non-ASCII letter) unless told not to mangle; this list returns every
// name as the kernel holds it. See BENCHMARKS.md for what it saves.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dm/device_mapper.h"

namespace thinpool {

// The reply of DM_TABLE_STATUS as it lies in the ioctl buffer (a struct dm_ioctl followed by
// its dm_target_specs and their parameter strings), read into a DmReport. Every offset and
// string is checked against the buffer and the header's data_size.
Expected<DmReport> parse_table_status_reply(std::span<const char> reply);

// The same reply as a view of its single target (no copy): type and params point into `reply`.
Expected<DmStatusView> parse_status_view(std::span<const char> reply);

// The reply of DM_LIST_DEVICES (struct dm_name_list records chained by `next`), read into
// DmDevices. Every record is checked against the buffer.
Expected<std::vector<DmDevice>> parse_list_reply(std::span<const char> reply);
// The same into `devices`, reusing its entries (their names' buffers); on an error `devices`
// holds the records read before it.
Status parse_list_reply_into(std::span<const char> reply, std::vector<DmDevice>& devices);

class DmIoctl {
 public:
  // Stands for ioctl(control_fd, request, buffer): 0, or -errno.
  using Ioctl = std::function<int(unsigned long request, void* buffer)>;
  // Stands for poll() on the control file descriptor without waiting: 1 when it is readable (the
  // global event counter moved since the last DM_DEV_ARM_POLL), 0 when not, or -errno.
  using Poll = std::function<int()>;
  enum class What { kStatus, kTable };

  static constexpr size_t kInitialBufferBytes = 1024;  // a thin or thin-pool reply fits
  static constexpr size_t kMaxBufferBytes = size_t{64} << 20;

  DmIoctl(Ioctl ioctl, Poll poll) : ioctl_(std::move(ioctl)), poll_(std::move(poll)) {}

  // DM_LIST_DEVICES, offering first a buffer the size the previous list needed.
  Expected<std::vector<DmDevice>> list();
  // The same into `devices`, reusing its entries.
  Status list_into(std::vector<DmDevice>& devices);

  // The device's status (with DM_NOFLUSH_FLAG: the kernel does not commit pool metadata for it)
  // or its live table (DM_STATUS_TABLE_FLAG), addressed by device number. A device gone since the
  // list (ENXIO, or another name at its number) gives DmReport::vanished(); other errors name the
  // device ("dm status vg0-t1: Permission denied (...)").
  Expected<DmReport> table_status(What what, const DmDevice& device);

  // The status as table_status(kStatus) reads it, as a view into the calling thread's buffer:
  // valid until that thread's next call.
  Expected<DmStatusView> status_view(const DmDevice& device);

  // DM_DEV_STATUS of the device.
  Expected<DmInfo> info(const DmDevice& device);

  // Whether the global event counter moved since the previous call (true on the first), then
  // DM_DEV_ARM_POLL so that the next call sees what happens from now on.
  Expected<bool> changed_since_last_call();

  // The calling thread's buffer size (it grows as replies need, and is kept).
  static size_t buffer_bytes();

 private:
  // Runs `request` with a header from `prepare`, growing the thread's buffer while the kernel
  // says it is full; the reply, or the ioctl's errno (negative).
  struct Reply {
    int rc = 0;
    std::span<const char> bytes;
  };
  Reply call(unsigned long request, const std::function<void(void* header)>& prepare,
             size_t first_bytes = kInitialBufferBytes);
  Reply call_table_status(What what, const DmDevice& device);
  // The error of a table or status call, if it failed; `vanished` when the device is gone.
  static std::optional<Error> table_status_failed(What what, const DmDevice& device,
                                                  const Reply& reply, bool& vanished);

  Ioctl ioctl_;
  Poll poll_;
  std::atomic<bool> armed_{false};
  // The buffer the next list offers first: what the last list needed, with room for a few more
  // devices. The kernel sizes the whole list (a walk of every device's name, under its hash
  // lock) before it can say a buffer is too small, so each doubling from 1 KiB cost one more
  // walk: ten of them at 10,000 devices.
  std::atomic<size_t> list_bytes_{kInitialBufferBytes};
};

// The /dev/mapper/control device behind a DmIoctl: opened on first use and kept open; failing
// to open it is reported as the call's errno (EACCES for a process without the right to, ENOENT
// or ENODEV without device-mapper).
struct ControlDevice {
  DmIoctl::Ioctl ioctl;
  DmIoctl::Poll poll;
};
ControlDevice open_control_device();

// Explains why /dev/mapper/control cannot be used: no device-mapper in the kernel, no node, or
// no privilege. Checks /proc/misc and opens the node read-only itself, so it never creates it.
std::string diagnose_control_device();

}  // namespace thinpool
