#include "base/condition_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>

namespace thinpool {
namespace {

// Captures what the default logger writes, one "level: message" line per event.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    sink->set_pattern("%l: %v");
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // The lines so far, then forgets them.
  std::string take() {
    std::string lines = text_.str();
    text_.str("");
    return lines;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

TEST(ConditionLog, LogsALastingConditionOnceAndItsEndOnce) {
  CapturedLog log;
  ConditionLog conditions(spdlog::level::warn, "cannot read {}: {}", "{} reads again");
  conditions.failing("vg0", "Permission denied");
  EXPECT_EQ(log.take(), "warning: cannot read vg0: Permission denied\n");
  conditions.failing("vg0", "Permission denied");
  EXPECT_EQ(log.take(), "debug: cannot read vg0: Permission denied\n");
  conditions.failing("vg0", "Input/output error");  // another reason: logged again
  EXPECT_EQ(log.take(), "warning: cannot read vg0: Input/output error\n");
  conditions.working("vg0");
  EXPECT_EQ(log.take(), "info: vg0 reads again\n");
  conditions.working("vg0");  // nothing was failing
  EXPECT_EQ(log.take(), "");
}

TEST(ConditionLog, SubjectsFailingForTheSameReasonNameItOnce) {
  CapturedLog log;
  ConditionLog conditions(spdlog::level::err, "collector {} failed: {}",
                          "collector {} works again");
  conditions.failing("thinpool", "no device-mapper");
  conditions.failing("thin", "no device-mapper");
  EXPECT_EQ(log.take(),
            "error: collector thinpool failed: no device-mapper\n"
            "error: collector thin failed: the same reason as thinpool\n");
}

TEST(ConditionLog, ForgetsSubjectsThatAreNoLongerReported) {
  CapturedLog log;
  ConditionLog conditions(spdlog::level::warn, "skipping device {}: {}", "device {} reads again");
  conditions.failing("a", "bad line");
  conditions.failing("b", "bad line 2");
  conditions.forget_unreported();  // both were reported in this round
  conditions.failing("a", "bad line");
  conditions.forget_unreported();  // b was not: forgotten, without a line
  log.take();
  conditions.failing("b", "bad line 2");
  conditions.failing("a", "bad line");
  EXPECT_EQ(log.take(),
            "warning: skipping device b: bad line 2\ndebug: skipping device a: bad line\n");
  conditions.working("b");
  EXPECT_EQ(log.take(), "info: device b reads again\n");
}

}  // namespace
}  // namespace thinpool
