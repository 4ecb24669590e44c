#include "thin/pool_status_reader.h"

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";

}  // namespace

GroupStatus PoolStatusReader::read_group(const std::vector<DmDevice>& devices,
                                         const StatusGroup& group) {
  GroupStatus result;
  result.outcomes.resize(group.devices.size(), StatusOutcome::kRead);
  result.volumes.resize(group.devices.size());
  for (size_t i = 0; i < group.devices.size(); ++i) {
    const bool is_pool = group.has_pool && i == 0;
    // A view into this thread's buffer, parsed before the next call: nothing is copied.
    auto report = device_mapper_.status_view(devices[group.devices[i]]);
    if (!report) {
      result.outcomes[i] = StatusOutcome::kFailed;
      result.errors.emplace_back(i, report.error());
      continue;
    }
    const std::string_view target = is_pool ? kThinPoolTarget : kThinTarget;
    if (!report->exists || report->target_count != 1 || report->type != target) {
      result.outcomes[i] = StatusOutcome::kGone;
      continue;
    }
    const std::string_view params = report->params;
    if (is_pool) {
      auto parsed = parse_thin_pool_status(params);
      if (parsed) {
        result.pool = std::move(*parsed);
        continue;
      }
      result.outcomes[i] = StatusOutcome::kUnparsable;
      result.errors.emplace_back(i, parsed.error());
      continue;
    }
    auto parsed = parse_thin_status(params);
    if (parsed) {
      result.volumes[i] = *parsed;
      continue;
    }
    result.outcomes[i] = StatusOutcome::kUnparsable;
    result.errors.emplace_back(i, parsed.error());
  }
  return result;
}

std::vector<std::shared_ptr<const GroupStatus>> PoolStatusReader::read(
    const DeviceList& devices, const std::vector<StatusGroup>& groups, Clock::time_point deadline) {
  using Flights = SingleFlight<GroupStatus>;
  // Every pool's task first, then the waits: a blocked pool does not delay the others' start.
  std::vector<std::optional<Flights::Handle>> handles(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const StatusGroup& group = groups[i];
    auto blocked = blocked_.find(group.key);
    if (blocked != blocked_.end()) {
      if (group.stack_suspended) {
        continue;  // blocked before, and devices under it are still suspended: do not ask
      }
      blocked_.erase(blocked);
    }
    handles[i] = flights_.start(group.key, WhenBusy::kSkip,
                                [this, devices, group] { return read_group(*devices, group); });
  }
  std::vector<std::shared_ptr<const GroupStatus>> results(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!handles[i]) {
      continue;
    }
    auto result = flights_.wait(*handles[i], deadline);
    switch (result.outcome) {
      case Flights::Outcome::kDone:
        results[i] = std::move(result.value);
        break;
      case Flights::Outcome::kTimedOut:
        blocked_.emplace(groups[i].key, result.started);
        break;
      case Flights::Outcome::kBusy:
        break;  // an earlier read's task for this pool has not returned
    }
  }
  return results;
}

}  // namespace thinpool
