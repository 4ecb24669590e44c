// MetricWriter against prometheus::TextSerializer, the reference it must match byte for byte:
// every byte in label values and HELP text, edge and random sample values, every type it writes,
// label text kept ready, families without samples; and the rules it
// enforces.
#include "exposition/metric_writer.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace thinpool {
namespace {

constexpr std::string_view kTwoLabels[] = {"name", "other"};

std::string serialized(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

// The same samples, written by MetricWriter and by TextSerializer.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};

void expect_same_text(const Family& family, const std::vector<Sample>& samples) {
  std::string text;
  MetricWriter writer(text);
  FamilySamples written = writer.family(family);
  prometheus::MetricFamily reference;
  reference.name = std::string(family.name);
  reference.help = std::string(family.help);
  reference.type = family.type;
  for (const Sample& sample : samples) {
    std::vector<std::string_view> values(sample.label_values.begin(), sample.label_values.end());
    written.add(values, sample.value);
    prometheus::ClientMetric metric;
    for (size_t i = 0; i < values.size(); ++i) {
      metric.label.push_back({std::string(family.label_names[i]), sample.label_values[i]});
    }
    metric.gauge.value = metric.counter.value = metric.untyped.value = sample.value;
    reference.metric.push_back(metric);
  }
  EXPECT_EQ(text, samples.empty() ? "" : serialized({reference})) << family.name;
}

std::vector<Sample> unlabelled(const std::vector<double>& values) {
  std::vector<Sample> samples;
  samples.reserve(values.size());
  for (double value : values) {
    samples.push_back({{}, value});
  }
  return samples;
}

TEST(MetricWriterTest, EscapesLabelValuesLikeTextSerializer) {
  // Every ASCII byte, and UTF-8 of every length.
  std::string every_byte;
  for (int c = 1; c < 128; ++c) {
    every_byte.push_back(static_cast<char>(c));
  }
  every_byte += "\xc3\xb6 \xe2\x82\xac \xf0\x9f\x92\xbe \xef\xbf\xbf \xf4\x8f\xbf\xbf";
  std::vector<Sample> samples;
  for (std::string value :
       {std::string(), std::string("plain"), std::string("a\"b\\c\nd"), std::string("\\\\\"\"\n\n"),
        std::string("we\"ird\\pöol"), std::string(1, '\0') + "nul", every_byte}) {
    samples.push_back({{value, "x"}, 1});
  }
  expect_same_text({"test_value", "Values.", MetricType::Gauge, kTwoLabels}, samples);

  std::string escaped;
  append_label_value("a\"b\\c\nd", escaped);
  EXPECT_EQ(escaped, "a\\\"b\\\\c\\nd");
}

TEST(MetricWriterTest, WritesHelpTextAsIs) {
  expect_same_text({"test_value", "line1\nline2 \\ \"quoted\" ö", MetricType::Gauge, {}},
                   unlabelled({1}));
  expect_same_text({"test_value", "", MetricType::Gauge, {}}, unlabelled({1}));
}

TEST(MetricWriterTest, FormatsEdgeValuesLikeTextSerializer) {
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
  expect_same_text({"test_value", "Values.", MetricType::Gauge, {}}, unlabelled(values));

  std::string text;
  append_sample_value(-0.0, text);
  EXPECT_EQ(text, "-0");
}

TEST(MetricWriterTest, FormatsRandomValuesLikeTextSerializer) {
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
  expect_same_text({"test_value", "Values.", MetricType::Gauge, {}}, unlabelled(values));
}

// A count is written as the same count as a double: below 2^53 straight from the integer, above
// through the double (whose rounding the text then shows, as it did before).
TEST(MetricWriterTest, CountsAreWrittenAsTheirDoubles) {
  std::mt19937_64 random(20261206);
  std::vector<uint64_t> counts = {0,
                                  1,
                                  512,
                                  1319569981440,
                                  (uint64_t{1} << 53) - 1,
                                  uint64_t{1} << 53,
                                  (uint64_t{1} << 53) + 1,
                                  9999999999999999,
                                  10000000000000000,
                                  10000000000000001,
                                  std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t bits = random();
    counts.push_back(bits >> (bits % 64));
    counts.push_back((bits % 100000000) * 512);
  }
  for (uint64_t count : counts) {
    std::string as_count;
    std::string as_double;
    append_sample_value(count, as_count);
    append_sample_value(static_cast<double>(count), as_double);
    ASSERT_EQ(as_count, as_double) << count;
  }
}

TEST(MetricWriterTest, MatchesTextSerializerForEveryTypeItWrites) {
  for (MetricType type : {MetricType::Gauge, MetricType::Counter, MetricType::Untyped}) {
    expect_same_text({"test_value", "Help.", type, kTwoLabels},
                     {{{"a", "1"}, 1.5}, {{"b", "2"}, -2}, {{"", ""}, 1e300}});
  }
}

TEST(MetricWriterTest, AFamilyWithoutSamplesLeavesNoTrace) {
  std::string text = "prefix\n";
  MetricWriter writer(text);
  writer.family({"no_samples", "Nothing.", MetricType::Gauge, {}});
  writer.family({"one_sample", "One.", MetricType::Gauge, {}}).add({}, 1);
  EXPECT_EQ(text, "prefix\n# HELP one_sample One.\n# TYPE one_sample gauge\none_sample 1\n");
}

TEST(MetricWriterTest, LabelTextKeptReadyIsWrittenAsGiven) {
  constexpr Family family{"test_value", "Values.", MetricType::Gauge, kTwoLabels};
  std::string text;
  MetricWriter writer(text);
  writer.family(family).add_label_text({"name=\"a\\\"b\",", "other=\"", "x", "\""}, uint64_t{7});
  std::string reference;
  MetricWriter reference_writer(reference);
  reference_writer.family(family).add({"a\"b", "x"}, 7);
  EXPECT_EQ(text, reference);
}

// Counts through the label-text path, many samples to one text (it grows while written), each
// line as add() writes the count's double: the 16-digit counts, 2^53 and above, the largest.
TEST(MetricWriterTest, LabelTextCountsAreWrittenAsTheirDoubles) {
  constexpr Family family{"test_value", "Values.", MetricType::Gauge, kTwoLabels};
  std::mt19937_64 random(20261207);
  std::vector<uint64_t> counts = {0,
                                  9,
                                  10,
                                  999999999999999,
                                  1000000000000000,
                                  (uint64_t{1} << 53) - 1,
                                  uint64_t{1} << 53,
                                  (uint64_t{1} << 53) + 1,
                                  9999999999999999,
                                  10000000000000000,
                                  std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 5000; ++i) {
    const uint64_t bits = random();
    counts.push_back(bits >> (bits % 64));
  }
  std::string text;
  MetricWriter writer(text);
  std::string reference;
  MetricWriter reference_writer(reference);
  FamilySamples samples = writer.family(family);
  FamilySamples reference_samples = reference_writer.family(family);
  for (size_t i = 0; i < counts.size(); ++i) {
    const std::string other(i % 300, 'v');  // lines of many lengths
    samples.add_label_text({"name=\"n\",other=\"", other, "\""}, counts[i]);
    reference_samples.add({"n", other}, static_cast<double>(counts[i]));
  }
  ASSERT_EQ(text.size(), reference.size());
  EXPECT_TRUE(text == reference);
}

TEST(MetricWriterTest, RefusesWhatWouldMakeTheExpositionInvalid) {
  constexpr Family first{"first_value", "First.", MetricType::Gauge, kTwoLabels};
  constexpr Family second{"second_value", "Second.", MetricType::Gauge, {}};
  std::string text;
  MetricWriter writer(text);
  FamilySamples samples = writer.family(first);
  EXPECT_THROW(samples.add({"only one value"}, 1), std::logic_error);
  writer.family(second).add({}, 1);
  // Samples of a family are written together, and a family once.
  EXPECT_THROW(samples.add({"a", "b"}, 1), std::logic_error);
  EXPECT_THROW(writer.family(first), std::logic_error);
  EXPECT_THROW(writer.family({"summary_value", "S.", MetricType::Summary, {}}), std::logic_error);
}

TEST(MetricWriterTest, RollingBackForgetsTextAndFamilies) {
  constexpr Family family{"test_value", "Values.", MetricType::Gauge, {}};
  std::string text;
  MetricWriter writer(text);
  const MetricWriter::Mark mark = writer.mark();
  FamilySamples samples = writer.family(family);
  samples.add({}, 1);
  EXPECT_TRUE(writer.roll_back(mark));
  EXPECT_EQ(text, "");
  EXPECT_THROW(samples.add({}, 2), std::logic_error);
  writer.family(family).add({}, 3);  // the family may be written again
  EXPECT_EQ(text, "# HELP test_value Values.\n# TYPE test_value gauge\ntest_value 3\n");
}

// The text in pieces: each piece ends with a whole sample, the pieces make the text a writer
// without a sink writes, the string keeps room for a piece after the sink took its memory, and a
// mark can be rolled back only while none of the text since it was handed over.
TEST(MetricWriterTest, HandsTheTextOverInPiecesAtSampleEnds) {
  static constexpr std::string_view kLabel[] = {"volume"};
  constexpr Family family{"test_bytes", "Bytes.", MetricType::Gauge, kLabel};
  constexpr Family other{"test_other", "Other.", MetricType::Counter, {}};
  const auto write = [&](MetricWriter& writer) {
    FamilySamples samples = writer.family(family);
    for (int i = 0; i < 1000; ++i) {
      samples.add({"volume-" + std::to_string(i)}, i * 1.5);
      samples.add_label_text({"volume=\"lv", std::to_string(i), "\""}, uint64_t{1} << (i % 60));
    }
    writer.family(other).add({}, 7);
  };
  std::string whole;
  MetricWriter plain(whole);
  write(plain);
  for (size_t piece_size : {size_t{1}, size_t{100}, size_t{4096}, whole.size(), SIZE_MAX}) {
    std::string text;
    std::vector<std::string> pieces;
    MetricWriter writer(text, piece_size, [&](std::string& piece) {
      pieces.emplace_back();
      pieces.back().swap(piece);  // takes the memory, as the HTTP layer does
    });
    write(writer);
    EXPECT_EQ(writer.size(), whole.size());
    if (piece_size == 4096) {
      EXPECT_GE(text.capacity(), piece_size);  // room kept between pieces
    }
    writer.flush();
    writer.flush();  // nothing more: no empty piece
    std::string joined;
    for (const std::string& piece : pieces) {
      ASSERT_FALSE(piece.empty());
      EXPECT_EQ(piece.back(), '\n');
      if (&piece != &pieces.back()) {
        EXPECT_GE(piece.size(), std::min(piece_size, whole.size()));
      }
      joined += piece;
    }
    EXPECT_EQ(joined, whole) << "piece size " << piece_size;
    EXPECT_EQ(pieces.size() > 1, piece_size < whole.size()) << piece_size;
  }
  std::string text;
  size_t handed = 0;
  MetricWriter writer(text, 32, [&](std::string& piece) { handed += piece.size(); });
  const MetricWriter::Mark start = writer.mark();
  FamilySamples samples = writer.family(other);
  samples.add({}, 1);  // HELP, TYPE and the sample: more than 32 bytes, handed over
  ASSERT_GT(handed, 0u);
  const MetricWriter::Mark after_first = writer.mark();
  EXPECT_FALSE(writer.roll_back(start));  // the text is gone to the sink
  EXPECT_EQ(writer.mark().text_size, after_first.text_size);
  EXPECT_TRUE(writer.roll_back(after_first));  // nothing since: nothing to take back
}

TEST(MetricWriterTest, WritesBytesThatAreNotUtf8AsHexSoTheScrapeStaysValid) {
  const std::pair<std::string, std::string> cases[] = {
      {"latin\xe9", R"(latin\\xe9)"},                   // a Latin-1 byte
      {"\xff\xfe", R"(\\xff\\xfe)"},                    // never in UTF-8
      {"cut\xc3", R"(cut\\xc3)"},                       // a sequence cut short
      {"\xc0\xaf", R"(\\xc0\\xaf)"},                    // an overlong '/'
      {"\xed\xa0\x80", R"(\\xed\\xa0\\x80)"},           // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", R"(\\xf4\\x90\\x80\\x80)"},  // above U+10FFFF
      {"ok \xc3\xb6 \xe9\"q\"",
       "ok \xc3\xb6 "
       R"(\\xe9\"q\")"},  // mixed with the escapes
  };
  for (const auto& [value, written] : cases) {
    std::string out;
    append_label_value(value, out);
    EXPECT_EQ(out, written);
  }
}

}  // namespace
}  // namespace thinpool
