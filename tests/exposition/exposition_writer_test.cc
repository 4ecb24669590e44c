// The direct exposition writer against prometheus::TextSerializer, the oracle it must match
// byte for byte: the fixtures' scrapes, every byte in label values and HELP text, edge and
// random sample values, timestamps, every metric type.
#include "exposition/exposition_writer.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>

#include "collectors/collector.h"
#include "dm/fake_device_mapper.h"

namespace thinpool {
namespace {

std::string serialized(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string written(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  write_exposition(families, out);
  return out;
}

prometheus::MetricFamily gauge_family(const std::vector<double>& values) {
  prometheus::MetricFamily family;
  family.name = "test_value";
  family.help = "Values.";
  family.type = prometheus::MetricType::Gauge;
  for (double value : values) {
    prometheus::ClientMetric metric;
    metric.gauge.value = value;
    family.metric.push_back(metric);
  }
  return family;
}

TEST(ExpositionWriterTest, MatchesTextSerializerOnEveryFixture) {
  for (const char* fixture : {"lvm-healthy", "seed-incident", "faults", "empty"}) {
    auto fake =
        FakeDeviceMapper::from_directory(std::string(THINPOOL_FIXTURES_DIR) + "/" + fixture);
    ASSERT_TRUE(fake.ok()) << fake.error().message;
    InventoryReader reader(*fake);
    // The device-mapper collectors: the fixtures hold only dmsetup text.
    std::vector<Scraper::NamedCollector> collectors = device_mapper_collectors(reader);
    auto families = Scraper(reader, std::move(collectors)).Collect();
    EXPECT_EQ(written(families), serialized(families)) << fixture;
  }
}

TEST(ExpositionWriterTest, EscapesLabelValuesLikeTextSerializer) {
  prometheus::MetricFamily family = gauge_family({});
  std::string every_byte;
  for (int c = 1; c < 256; ++c) {
    every_byte.push_back(static_cast<char>(c));
  }
  for (std::string value :
       {std::string(), std::string("plain"), std::string("a\"b\\c\nd"), std::string("\\\\\"\"\n\n"),
        std::string("we\"ird\\pöol"), std::string(1, '\0') + "nul", every_byte}) {
    prometheus::ClientMetric metric;
    metric.label = {{"name", value}, {"other", "x"}};
    metric.gauge.value = 1;
    family.metric.push_back(metric);
  }
  EXPECT_EQ(written({family}), serialized({family}));

  std::string escaped;
  append_label_value("a\"b\\c\nd", escaped);
  EXPECT_EQ(escaped, "a\\\"b\\\\c\\nd");
}

TEST(ExpositionWriterTest, WritesHelpTextAsIs) {
  prometheus::MetricFamily family = gauge_family({1});
  family.help = "line1\nline2 \\ \"quoted\" ö";
  EXPECT_EQ(written({family}), serialized({family}));
  family.help.clear();
  EXPECT_EQ(written({family}), serialized({family}));
}

TEST(ExpositionWriterTest, FormatsEdgeValuesLikeTextSerializer) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                0.1,
                                1.0 / 3,
                                2.0 / 3,
                                1e-7,
                                1.5e-5,
                                123456789.123,
                                1e15,
                                9999999999999998.0,
                                1e16,
                                -1e16,
                                1e17,
                                1e21,
                                9007199254740993.0,
                                18446744073709551615.0,
                                1319569981440.0,
                                4398046511104.0,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::epsilon(),
                                std::nan(""),
                                -std::nan(""),
                                inf,
                                -inf};
  prometheus::MetricFamily family = gauge_family(values);
  EXPECT_EQ(written({family}), serialized({family}));

  std::string text;
  append_sample_value(-0.0, text);
  EXPECT_EQ(text, "-0");
}

TEST(ExpositionWriterTest, FormatsRandomValuesLikeTextSerializer) {
  std::mt19937_64 random(20240607);
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = random();
    double from_bits = 0;
    std::memcpy(&from_bits, &bits, sizeof from_bits);
    values.push_back(from_bits);                                          // any double
    values.push_back(static_cast<double>(bits >> (bits % 64)));           // whole numbers
    values.push_back(static_cast<double>(bits % 1000000) / 1000.0);       // decimals
    values.push_back(static_cast<double>(bits % 100000) * 512.0 * 2048);  // byte counts
    values.push_back(std::ldexp(static_cast<double>(bits % 4096), -static_cast<int>(bits % 40)));
  }
  prometheus::MetricFamily family = gauge_family(values);
  EXPECT_EQ(written({family}), serialized({family}));
}

TEST(ExpositionWriterTest, MatchesTextSerializerForEveryTypeAndTimestamps) {
  std::vector<prometheus::MetricFamily> families;
  for (auto type : {prometheus::MetricType::Counter, prometheus::MetricType::Gauge,
                    prometheus::MetricType::Untyped, prometheus::MetricType::Summary,
                    prometheus::MetricType::Histogram}) {
    prometheus::MetricFamily family;
    family.name = "family_" + std::to_string(families.size());
    family.help = "Help.";
    family.type = type;
    prometheus::ClientMetric metric;
    metric.label = {{"a", "1"}};
    metric.counter.value = 1.5;
    metric.gauge.value = 2.5;
    metric.untyped.value = 3.5;
    metric.summary.sample_count = 4;
    metric.summary.sample_sum = 4.5;
    metric.summary.quantile = {{0.5, 1}, {0.99, 2}};
    metric.histogram.sample_count = 5;
    metric.histogram.sample_sum = 5.5;
    metric.histogram.bucket = {{2, 1}, {3, 10}};
    family.metric.push_back(metric);
    metric.label.clear();
    metric.timestamp_ms = 1717700000123;
    family.metric.push_back(metric);
    metric.timestamp_ms = -5;
    family.metric.push_back(metric);
    families.push_back(family);
  }
  prometheus::MetricFamily no_samples;
  no_samples.name = "no_samples";
  families.push_back(no_samples);
  EXPECT_EQ(written(families), serialized(families));
}

TEST(ExpositionWriterTest, AppendsToWhatIsThereAndStaysWithinTheBound) {
  prometheus::MetricFamily family = gauge_family({1, 2, 3e300});
  family.metric[0].label = {{"volume", "cinder--volumes-volume--5f0c1c2e"}, {"pool", "p"}};
  std::string out = "prefix\n";
  write_exposition({family}, out);
  EXPECT_EQ(out, "prefix\n" + serialized({family}));
  EXPECT_LE(out.size() - 7, exposition_size_bound({family}));
}

}  // namespace
}  // namespace thinpool
