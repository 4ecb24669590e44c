// DM_TABLE_STATUS issued directly, without libdevmapper: the per-device ioctl of every scrape.
//
// libdevmapper allocates and zeroes a 16 KiB buffer for every task and the kernel copies all of
// it in and out; a thin device's reply is about 400 bytes. This client offers the kernel 1 KiB
// and doubles it while the kernel says the buffer is full (DM_BUFFER_FULL_FLAG), in one buffer
// kept between calls. See BENCHMARKS.md for what it saves.
#pragma once

#include <functional>
#include <mutex>
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

class DmTableStatusIoctl {
 public:
  // Stands for ioctl(control_fd, DM_TABLE_STATUS, buffer): 0, or -errno.
  using Ioctl = std::function<int(void* buffer)>;
  enum class What { kStatus, kTable };

  static constexpr size_t kInitialBufferBytes = 1024;  // a thin or thin-pool reply fits
  static constexpr size_t kMaxBufferBytes = size_t{64} << 20;

  explicit DmTableStatusIoctl(Ioctl ioctl) : ioctl_(std::move(ioctl)) {}

  // The device's status (with DM_NOFLUSH_FLAG: the kernel does not commit pool metadata for it)
  // or its live table, addressed by device number. A device gone since the list (ENXIO) gives
  // DmReport::vanished(); other errors keep their errno and name the device ("dm status vg0-t1:
  // Permission denied (...)"). Thread-safe.
  Expected<DmReport> run(What what, const DmDevice& device);

  // The buffer's current size (it only grows).
  size_t buffer_bytes() const;

 private:
  Ioctl ioctl_;
  mutable std::mutex mutex_;
  // uint64_t: struct dm_ioctl wants 8-byte alignment.
  std::vector<uint64_t> buffer_ = std::vector<uint64_t>(kInitialBufferBytes / sizeof(uint64_t));
};

// An Ioctl on /dev/mapper/control, opened on first use and kept open; failing to open it is
// reported as the ioctl's errno (EACCES for a process without the right to).
DmTableStatusIoctl::Ioctl control_device_ioctl();

}  // namespace thinpool
