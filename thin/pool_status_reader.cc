#include "thin/pool_status_reader.h"

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";

}  // namespace

std::vector<StatusResult> PoolStatusReader::read_group(const StatusGroup& group) {
  std::vector<StatusResult> results(group.devices.size());
  for (size_t i = 0; i < group.devices.size(); ++i) {
    const StatusGroup::Device& wanted = group.devices[i];
    StatusResult& result = results[i];
    auto report = device_mapper_.status(wanted.device);
    if (!report) {
      result.outcome = StatusResult::Outcome::kFailed;
      result.error = report.error();
      continue;
    }
    const std::string_view target = wanted.is_pool ? kThinPoolTarget : kThinTarget;
    if (!report->exists || report->targets.size() != 1 || report->targets[0].type != target) {
      result.outcome = StatusResult::Outcome::kGone;
      continue;
    }
    const std::string& params = report->targets[0].params;
    if (wanted.is_pool) {
      auto parsed = parse_thin_pool_status(params);
      if (parsed) {
        result.pool = *parsed;
      } else {
        result.outcome = StatusResult::Outcome::kUnparsable;
        result.error = parsed.error();
      }
    } else {
      auto parsed = parse_thin_status(params);
      if (parsed) {
        result.thin = *parsed;
      } else {
        result.outcome = StatusResult::Outcome::kUnparsable;
        result.error = parsed.error();
      }
    }
  }
  return results;
}

std::vector<std::optional<std::vector<StatusResult>>> PoolStatusReader::read(
    const std::vector<StatusGroup>& groups, Clock::time_point deadline) {
  using Flights = SingleFlight<std::vector<StatusResult>>;
  // Every pool's task first, then the waits: a blocked pool does not delay the others' start.
  std::vector<std::optional<Flights::Handle>> handles(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const StatusGroup& group = groups[i];
    auto blocked = blocked_.find(group.key);
    if (blocked != blocked_.end()) {
      if (group.stack_suspended) {
        continue;  // blocked before, and its devices are still suspended: do not ask
      }
      blocked_.erase(blocked);
    }
    handles[i] =
        flights_.start(group.key, WhenBusy::kSkip, [this, group] { return read_group(group); });
  }
  std::vector<std::optional<std::vector<StatusResult>>> results(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!handles[i]) {
      continue;
    }
    auto result = flights_.wait(*handles[i], deadline);
    switch (result.outcome) {
      case Flights::Outcome::kDone:
        if (result.value) {
          results[i] = std::move(*result.value);
        }
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
