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
#include <vector>

#include "base/single_flight.h"
#include "dm/device_mapper.h"
#include "thin/thin_parsers.h"

namespace thinpool {

struct StatusResult {
  enum class Outcome {
    kRead,        // parsed into pool or thin
    kGone,        // removed since the list, or reloaded with another target since its table
    kFailed,      // the ioctl failed: error
    kUnparsable,  // error holds the parser's message
  };
  Outcome outcome = Outcome::kRead;
  ThinPoolStatus pool;
  ThinStatus thin;
  Error error;
};

// One pool's devices: the pool first (when it is listed), then its thin volumes. Volumes whose
// pool is not listed, or failed, form groups of their own.
struct StatusGroup {
  std::string key;  // "<major>:<minor>" of the pool device
  struct Device {
    DmDevice device;
    bool is_pool = false;
  };
  std::vector<Device> devices;
  // Whether the pool's devices below it are suspended now (DM_DEV_STATUS): a group that blocked
  // is not asked again until they are resumed.
  bool stack_suspended = false;
};

class PoolStatusReader {
 public:
  PoolStatusReader(DeviceMapper& device_mapper, std::shared_ptr<BlockingCallPool> threads)
      : device_mapper_(device_mapper), flights_(std::move(threads)) {}

  // Per group, its devices' results in order; nullopt for a group that is blocked (its task did
  // not finish by `deadline`, one from an earlier read is still outstanding, or it blocked before
  // and its devices are still suspended).
  std::vector<std::optional<std::vector<StatusResult>>> read(const std::vector<StatusGroup>& groups,
                                                             Clock::time_point deadline);

  // Groups whose task is still outstanding, and since when.
  std::vector<SingleFlight<std::vector<StatusResult>>::Outstanding> outstanding() const {
    return flights_.outstanding();
  }

 private:
  std::vector<StatusResult> read_group(const StatusGroup& group);

  DeviceMapper& device_mapper_;
  SingleFlight<std::vector<StatusResult>> flights_;
  // Groups whose task blocked: not asked again while their devices stay suspended.
  std::map<std::string, Clock::time_point> blocked_;
};

}  // namespace thinpool
