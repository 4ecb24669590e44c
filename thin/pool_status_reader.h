// Reads the status of thin pools and their thin volumes, one pool at a time, so that a pool whose
// status calls block costs one thread and its own figures, never the other pools'.
//
// A pool's status (even with noflush) and a thin volume's take the pool's metadata lock, which a
// metadata commit holds across a flush of the data device: while the devices under a pool hang
// with writes in flight, both can wait uninterruptibly, and a waiting call holds the device's live
// table, so LVM's suspend of that device waits too. Each pool's calls (the pool's, then each of
// its volumes') run as one task on a worker thread; the read waits for every pool until its
// deadline. A pool whose task did not finish is "blocked": its calls are not made again while
// the task is outstanding (no second call stacked behind a blocked one), nor afterwards while its
// devices stay suspended (the exporter must not hold up the operator's repair).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/single_flight.h"
#include "dm/device_mapper.h"
#include "thin/thin_parsers.h"

namespace thinpool {

// The devices of one read, shared with the tasks (a blocked one may outlive the read).
using DeviceList = std::shared_ptr<const std::vector<DmDevice>>;

// One pool's devices: the pool first (when it is listed), then its thin volumes, as indexes into
// the read's DeviceList. Volumes whose pool is not listed, or failed, form groups of their own.
struct StatusGroup {
  std::string key;  // "<major>:<minor>" of the pool device
  bool has_pool = false;
  std::vector<uint32_t> devices;
  // Whether devices under the pool are suspended now (DM_DEV_STATUS): a group that blocked is not
  // asked again until they are resumed.
  bool stack_suspended = false;
};

enum class StatusOutcome : uint8_t {
  kRead,        // parsed
  kGone,        // removed since the list, or reloaded with another target since its table
  kFailed,      // the ioctl failed (the group's errors say how)
  kUnparsable,  // the parser refused the line (the group's errors quote it)
};

// A group's results, in the order of its devices.
struct GroupStatus {
  std::vector<StatusOutcome> outcomes;
  ThinPoolStatus pool;                           // with has_pool and outcomes[0] == kRead
  std::vector<ThinStatus> volumes;               // one per device, the pool's slot unused
  std::vector<std::pair<size_t, Error>> errors;  // for kFailed and kUnparsable, by device index
};

class PoolStatusReader {
 public:
  PoolStatusReader(DeviceMapper& device_mapper, std::shared_ptr<BlockingCallPool> threads)
      : device_mapper_(device_mapper), flights_(std::move(threads)) {}

  // Per group, its results; null for a group that is blocked (its task did not finish by
  // `deadline`, one from an earlier read is still outstanding, or it blocked before and devices
  // under it are still suspended).
  std::vector<std::shared_ptr<const GroupStatus>> read(const DeviceList& devices,
                                                       const std::vector<StatusGroup>& groups,
                                                       Clock::time_point deadline);

 private:
  GroupStatus read_group(const std::vector<DmDevice>& devices, const StatusGroup& group);

  DeviceMapper& device_mapper_;
  SingleFlight<GroupStatus> flights_;
  // Groups whose task blocked: not asked again while their devices stay suspended.
  std::map<std::string, Clock::time_point> blocked_;
};

}  // namespace thinpool
