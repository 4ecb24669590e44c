#include "exporter/logging.h"

#include <gtest/gtest.h>

namespace thinpool {
namespace {

TEST(Logging, LogfmtQuotesAndEscapes) {
  EXPECT_EQ(format_log_line(LogFormat::kLogfmt, "2026-11-24T00:00:00.000Z", "warn",
                            "skipping device \"x\": bad\nline"),
            R"(ts=2026-11-24T00:00:00.000Z level=warn msg="skipping device \"x\": bad\nline")");
}

TEST(Logging, JsonIsValidJsonText) {
  EXPECT_EQ(format_log_line(LogFormat::kJson, "2026-11-24T00:00:00.000Z", "error",
                            std::string("a\\b\"c\x01", 6)),
            R"({"ts":"2026-11-24T00:00:00.000Z","level":"error","msg":"a\\b\"c\u0001"})");
}

TEST(Logging, RejectsUnknownLevelsAndFormats) {
  EXPECT_FALSE(setup_logging("verbose", "logfmt").ok());
  EXPECT_FALSE(setup_logging("info", "xml").ok());
  EXPECT_TRUE(setup_logging("info", "json").ok());
  EXPECT_TRUE(setup_logging("debug", "logfmt").ok());
}

}  // namespace
}  // namespace thinpool
