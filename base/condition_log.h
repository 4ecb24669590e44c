// Logs a condition that lasts over many scrapes once, not once per scrape.
//
// A subject (a collector, a volume group, a device) that starts failing, or fails for another
// reason than last time, is logged at the log's level; while the same reason repeats, at debug
// level only; when it works again, once at info level. When another subject is failing for the
// same reason at the same time (collectors that share a source), the line says so instead of
// repeating the reason.
#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace thinpool {

class ConditionLog {
 public:
  // `failing_format` takes the subject and the reason ("collector {} failed: {}"),
  // `working_format` the subject ("collector {} works again").
  ConditionLog(spdlog::level::level_enum level, std::string failing_format,
               std::string working_format);

  // `reason` identifies the condition; the line says `shown` instead when given (a reason that
  // stays the same while the details, e.g. which device, change).
  void failing(std::string_view subject, std::string_view reason, std::string_view shown = {});
  void working(std::string_view subject);

  // Forgets, without a line, the subjects that were not reported failing since the last call:
  // for subjects that may simply be gone (a removed device), where "works again" would mislead.
  void forget_unreported();

 private:
  struct Condition {
    std::string reason;
    bool reported = false;  // failing() since the last forget_unreported()
  };

  spdlog::level::level_enum level_;
  std::string failing_format_;
  std::string working_format_;
  std::mutex mutex_;
  std::map<std::string, Condition, std::less<>> failing_;
};

}  // namespace thinpool
