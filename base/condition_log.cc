#include "base/condition_log.h"

#include <fmt/format.h>

namespace thinpool {

ConditionLog::ConditionLog(spdlog::level::level_enum level, std::string failing_format,
                           std::string working_format)
    : level_(level),
      failing_format_(std::move(failing_format)),
      working_format_(std::move(working_format)) {}

void ConditionLog::failing(std::string_view subject, std::string_view reason,
                           std::string_view shown) {
  if (shown.empty()) {
    shown = reason;
  }
  std::lock_guard lock(mutex_);
  auto it = failing_.find(subject);
  if (it != failing_.end() && it->second.reason == reason) {
    it->second.reported = true;
    spdlog::debug(fmt::runtime(failing_format_), subject, shown);
    return;
  }
  std::string_view shared_with;
  for (const auto& [other, condition] : failing_) {
    if (other != subject && condition.reason == reason) {
      shared_with = other;
      break;
    }
  }
  if (shared_with.empty()) {
    spdlog::log(level_, fmt::runtime(failing_format_), subject, shown);
  } else {
    spdlog::log(level_, fmt::runtime(failing_format_), subject,
                fmt::format("the same reason as {}", shared_with));
  }
  if (it == failing_.end()) {
    failing_.emplace(std::string(subject), Condition{std::string(reason), true});
  } else {
    it->second = Condition{std::string(reason), true};
  }
}

void ConditionLog::working(std::string_view subject) {
  std::lock_guard lock(mutex_);
  auto it = failing_.find(subject);
  if (it != failing_.end()) {
    failing_.erase(it);
    spdlog::info(fmt::runtime(working_format_), subject);
  }
}

void ConditionLog::forget_unreported() {
  std::lock_guard lock(mutex_);
  std::erase_if(failing_, [](const auto& entry) { return !entry.second.reported; });
  for (auto& [subject, condition] : failing_) {
    condition.reported = false;
  }
}

}  // namespace thinpool
