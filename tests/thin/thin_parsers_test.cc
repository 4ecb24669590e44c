#include "thin/thin_parsers.h"

#include <gtest/gtest.h>

namespace thinpool {
namespace {

struct PoolStatusCase {
  std::string name;
  std::string params;
  PoolMode mode;
  bool has_usage;
  uint64_t transaction_id = 0;
  uint64_t used_meta = 0, total_meta = 0, used_data = 0, total_data = 0;
  bool held = false;
  std::optional<std::string> discards;
  std::optional<bool> error_if_no_space;
  bool needs_check = false;
  std::optional<uint64_t> watermark;
};

void PrintTo(const PoolStatusCase& c, std::ostream* os) {
  *os << '"' << c.params << '"';
}

class PoolStatusTest : public testing::TestWithParam<PoolStatusCase> {};

TEST_P(PoolStatusTest, Parses) {
  const auto& c = GetParam();
  auto parsed = parse_thin_pool_status(c.params);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->mode, c.mode);
  ASSERT_EQ(parsed->usage.has_value(), c.has_usage);
  if (!c.has_usage) {
    return;
  }
  const auto& u = *parsed->usage;
  EXPECT_EQ(u.transaction_id, c.transaction_id);
  EXPECT_EQ(u.used_metadata_blocks, c.used_meta);
  EXPECT_EQ(u.total_metadata_blocks, c.total_meta);
  EXPECT_EQ(u.used_data_blocks, c.used_data);
  EXPECT_EQ(u.total_data_blocks, c.total_data);
  EXPECT_EQ(u.metadata_snapshot_held, c.held);
  EXPECT_EQ(u.discards, c.discards);
  EXPECT_EQ(u.error_if_no_space, c.error_if_no_space);
  EXPECT_EQ(u.needs_check, c.needs_check);
  EXPECT_EQ(u.metadata_low_watermark_blocks, c.watermark);
}

INSTANTIATE_TEST_SUITE_P(
    KernelForms, PoolStatusTest,
    testing::Values(
        // Captured on 6.1 (dmsetup create, 8 MiB metadata, 256 MiB data).
        PoolStatusCase{"v4_19_nine_fields",
                       "0 214/2048 0/4096 - rw discard_passdown queue_if_no_space - 512 ",
                       PoolMode::kReadWrite, true, 0, 214, 2048, 0, 4096, false, "discard_passdown",
                       false, false, 512},
        // Seen on 5.4 with 3072-sector blocks.
        PoolStatusCase{
            "kernel_5_4",
            "19 8886/552960 629535/838960 - rw no_discard_passdown queue_if_no_space - 1024",
            PoolMode::kReadWrite, true, 19, 8886, 552960, 629535, 838960, false,
            "no_discard_passdown", false, false, 1024},
        PoolStatusCase{
            "out_of_data_space",
            "5 300/1024 16384/16384 - out_of_data_space discard_passdown queue_if_no_space - 256",
            PoolMode::kOutOfDataSpace, true, 5, 300, 1024, 16384, 16384, false, "discard_passdown",
            false, false, 256},
        PoolStatusCase{
            "ro_needs_check",
            "7 1024/1024 2918/16384 - ro discard_passdown queue_if_no_space needs_check 256",
            PoolMode::kReadOnly, true, 7, 1024, 1024, 2918, 16384, false, "discard_passdown", false,
            true, 256},
        PoolStatusCase{"error_if_no_space",
                       "2 200/1024 100/16384 - rw ignore_discard error_if_no_space - 256",
                       PoolMode::kReadWrite, true, 2, 200, 1024, 100, 16384, false,
                       "ignore_discard", true, false, 256},
        PoolStatusCase{"held_metadata_root",
                       "9 500/1024 10/2048 312 rw discard_passdown queue_if_no_space - 256",
                       PoolMode::kReadWrite, true, 9, 500, 1024, 10, 2048, true, "discard_passdown",
                       false, false, 256},
        PoolStatusCase{"v3_2_four_fields", "4 100/1024 50/16384 - ", PoolMode::kReadWrite, true, 4,
                       100, 1024, 50, 16384, false, std::nullopt, std::nullopt, false,
                       std::nullopt},
        PoolStatusCase{"v3_6_six_fields", "4 100/1024 50/16384 - ro no_discard_passdown",
                       PoolMode::kReadOnly, true, 4, 100, 1024, 50, 16384, false,
                       "no_discard_passdown", std::nullopt, false, std::nullopt},
        PoolStatusCase{"v3_14_seven_fields",
                       "4 100/1024 50/16384 - rw ignore_discard queue_if_no_space",
                       PoolMode::kReadWrite, true, 4, 100, 1024, 50, 16384, false, "ignore_discard",
                       false, false, std::nullopt},
        PoolStatusCase{"v4_x_eight_fields",
                       "4 100/1024 50/16384 - rw discard_passdown error_if_no_space needs_check",
                       PoolMode::kReadWrite, true, 4, 100, 1024, 50, 16384, false,
                       "discard_passdown", true, true, std::nullopt},
        PoolStatusCase{"flags_in_any_order",
                       "4 100/1024 50/16384 - needs_check error_if_no_space 128 ignore_discard ro",
                       PoolMode::kReadOnly, true, 4, 100, 1024, 50, 16384, false, "ignore_discard",
                       true, true, 128},
        PoolStatusCase{
            "unknown_future_flag_ignored",
            "4 100/1024 50/16384 - rw discard_passdown queue_if_no_space - 256 fancy_new_flag",
            PoolMode::kReadWrite, true, 4, 100, 1024, 50, 16384, false, "discard_passdown", false,
            false, 256},
        PoolStatusCase{"max_transaction_id", "18446744073709551615 1/2 1/2 -", PoolMode::kReadWrite,
                       true, 18446744073709551615ULL, 1, 2, 1, 2, false, std::nullopt, std::nullopt,
                       false, std::nullopt},
        PoolStatusCase{"fail", "Fail", PoolMode::kFail, false},
        PoolStatusCase{"fail_trailing_blank", "Fail ", PoolMode::kFail, false},
        PoolStatusCase{"error", "Error", PoolMode::kError, false}),
    [](const auto& info) { return info.param.name; });

class PoolStatusMalformedTest : public testing::TestWithParam<std::pair<std::string, std::string>> {
};

TEST_P(PoolStatusMalformedTest, FailsQuotingTheInput) {
  const auto& [params, why] = GetParam();
  auto parsed = parse_thin_pool_status(params);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("\"" + params + "\""), std::string::npos)
      << parsed.error().message;
  EXPECT_NE(parsed.error().message.find(why), std::string::npos) << parsed.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, PoolStatusMalformedTest,
    testing::Values(std::pair{"", "0 fields"}, std::pair{"fail", "1 fields"},
                    std::pair{"1 2/3 4/5", "3 fields"},
                    std::pair{"x 214/2048 0/4096 -", "transaction id \"x\""},
                    std::pair{"-1 214/2048 0/4096 -", "transaction id"},
                    std::pair{"0 214 0/4096 -", "metadata \"214\""},
                    std::pair{"0 2049/2048 0/4096 -", "metadata \"2049/2048\""},
                    std::pair{"0 214/2048 0/ -", "data \"0/\""},
                    std::pair{"0 214/2048 0/4096 root", "held metadata root \"root\""},
                    std::pair{"0 214/2048 0/4096 - rw ro", "second mode"},
                    std::pair{"0 214/2048 0/4096 - rw 512 256", "second number"},
                    std::pair{"18446744073709551616 1/2 1/2 -", "transaction id"}));

TEST(ThinPoolTable, ParsesCapturedLines) {
  auto table = parse_thin_pool_table("254:0 254:1 128 0 1 skip_block_zeroing");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->metadata_dev, (DeviceNumber{254, 0}));
  EXPECT_EQ(table->data_dev, (DeviceNumber{254, 1}));
  EXPECT_EQ(table->data_block_size_sectors, 128u);
  EXPECT_EQ(table->low_water_mark_blocks, 0u);
  EXPECT_TRUE(table->skip_block_zeroing);
  EXPECT_FALSE(table->read_only);

  auto plain = parse_thin_pool_table("7:0 7:1 128 0 0");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->skip_block_zeroing);
}

TEST(ThinPoolTable, ParsesEveryFeatureInAnyOrder) {
  auto table = parse_thin_pool_table(
      "253:4 253:5 3072 1024 5 read_only error_if_no_space no_discard_passdown ignore_discard "
      "skip_block_zeroing");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->data_block_size_sectors, 3072u);
  EXPECT_EQ(table->low_water_mark_blocks, 1024u);
  EXPECT_TRUE(table->read_only);
  EXPECT_TRUE(table->error_if_no_space);
  EXPECT_TRUE(table->no_discard_passdown);
  EXPECT_TRUE(table->ignore_discard);
  EXPECT_TRUE(table->skip_block_zeroing);
}

TEST(ThinPoolTable, RejectsMalformedLines) {
  for (const char* params :
       {"", "254:0 254:1 128", "254 254:1 128 0 0", "254:0 x:1 128 0 0", "254:0 254:1 0 0 0",
        "254:0 254:1 128 low 0", "254:0 254:1 128 0 2 skip_block_zeroing",
        "254:0 254:1 128 0 0 read_only"}) {
    auto table = parse_thin_pool_table(params);
    ASSERT_FALSE(table.ok()) << params;
    EXPECT_NE(table.error().message.find(std::string("\"") + params + "\""), std::string::npos)
        << table.error().message;
  }
}

TEST(ThinStatus, ParsesEveryForm) {
  auto active = parse_thin_status("1228800 1228799");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->state, ThinStatus::State::kActive);
  EXPECT_EQ(active->mapped_sectors, 1228800u);

  auto nothing_mapped = parse_thin_status("0 -");
  ASSERT_TRUE(nothing_mapped.ok());
  EXPECT_EQ(nothing_mapped->state, ThinStatus::State::kActive);
  EXPECT_EQ(nothing_mapped->mapped_sectors, 0u);

  EXPECT_EQ(parse_thin_status("-")->state, ThinStatus::State::kInactive);
  EXPECT_EQ(parse_thin_status("Fail")->state, ThinStatus::State::kFail);
  EXPECT_EQ(parse_thin_status("Error")->state, ThinStatus::State::kError);
  EXPECT_EQ(parse_thin_status("255510528 268459007 ")->mapped_sectors, 255510528u);
}

TEST(ThinStatus, RejectsMalformedLines) {
  for (const char* params : {"", "12", "12 x", "x 12", "1 2 3", "fail", "-1 -"}) {
    auto status = parse_thin_status(params);
    ASSERT_FALSE(status.ok()) << params;
    EXPECT_NE(status.error().message.find(std::string("\"") + params + "\""), std::string::npos);
  }
}

// The kernel's own form ("%llu %llu", "%llu -") is read without splitting; every other spacing goes
// the general way. Both must agree, on good lines and on bad ones.
TEST(ThinStatus, TheKernelsFormAndOtherSpacingsAgree) {
  struct Case {
    const char* params;
    bool ok;
    uint64_t mapped;
  };
  for (const Case& c : std::vector<Case>{{"7 6", true, 7},
                                         {"7  6", true, 7},
                                         {" 7 6", true, 7},
                                         {"7\t6", true, 7},
                                         {"7 -", true, 7},
                                         {"7 - ", true, 7},
                                         {"18446744073709551615 -", true, 18446744073709551615u},
                                         {"18446744073709551616 -", false, 0},
                                         {"7 --", false, 0},
                                         {"7 6x", false, 0},
                                         {"7x 6", false, 0},
                                         {"7 ", false, 0},
                                         {"+7 6", false, 0},
                                         {"7 +6", false, 0},
                                         {"7 -6", false, 0}}) {
    auto status = parse_thin_status(c.params);
    ASSERT_EQ(status.ok(), c.ok) << c.params;
    if (c.ok) {
      EXPECT_EQ(status->state, ThinStatus::State::kActive) << c.params;
      EXPECT_EQ(status->mapped_sectors, c.mapped) << c.params;
    } else {
      EXPECT_NE(status.error().message.find(std::string("\"") + c.params + "\""), std::string::npos)
          << status.error().message;
    }
  }
}

TEST(ThinTable, ParsesWithAndWithoutExternalOrigin) {
  auto table = parse_thin_table("254:2 17");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->pool_dev, (DeviceNumber{254, 2}));
  EXPECT_EQ(table->device_id, 17u);

  auto external = parse_thin_table("254:2 3 8:48");
  ASSERT_TRUE(external.ok());
  EXPECT_EQ(external->device_id, 3u);
}

TEST(ThinTable, FailWhenThePoolHasFailed) {
  auto table = parse_thin_table("Fail");
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->pool_failed);
  EXPECT_FALSE(parse_thin_table("254:2 1")->pool_failed);
}

TEST(ThinTable, RejectsMalformedLines) {
  for (const char* params :
       {"", "254:2", "254:2 x", "2542 1", "254:2 1 2 3", "254:2 16777216", "254:2 1 8-48"}) {
    auto table = parse_thin_table(params);
    ASSERT_FALSE(table.ok()) << params;
    EXPECT_NE(table.error().message.find(std::string("\"") + params + "\""), std::string::npos);
  }
}

TEST(PoolMode, LabelValues) {
  std::vector<std::string> names;
  for (PoolMode mode : kAllPoolModes) {
    names.emplace_back(to_string(mode));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"rw", "ro", "out_of_data_space", "fail", "error"}));
}

}  // namespace
}  // namespace thinpool
