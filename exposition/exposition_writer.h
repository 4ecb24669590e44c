// A direct writer of the Prometheus text exposition format (0.0.4) into one std::string.
//
// It writes, byte for byte, what prometheus::TextSerializer (prometheus-cpp 1.0.1, Debian 12)
// writes for the same families, so the golden files do not change; tests/collectors/
// exposition_writer_test.cc holds it to that against TextSerializer itself. It exists because
// TextSerializer goes through std::ostream one character and one `<<` at a time (about 30,000
// instructions per series, 80% of a 10,000-volume scrape); this writer appends whole label
// values and formats numbers with std::to_chars, and reserves the output once.
#pragma once

#include <prometheus/metric_family.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thinpool {

// Appends the exposition of `families` to `out`. Gauge, counter and untyped families are
// written directly; summary and histogram families (which the exporter does not produce) go
// through prometheus::TextSerializer.
void write_exposition(const std::vector<prometheus::MetricFamily>& families, std::string& out);

// An upper bound of what write_exposition() appends for label values without characters to
// escape; reserving it keeps the output in one allocation (untouched capacity is not resident).
size_t exposition_size_bound(const std::vector<prometheus::MetricFamily>& families);

// A label value as the text format wants it: backslash, double quote and newline escaped as
// \\, \" and \n; every other byte (UTF-8 included) as is.
void append_label_value(std::string_view value, std::string& out);

// A sample value as prometheus-cpp writes it: "Nan", "+Inf", "-Inf", otherwise printf's "%.16g"
// in the C locale (integers below 1e16 in full, "-0" for negative zero).
void append_sample_value(double value, std::string& out);

// Writes the samples of one gauge, counter or untyped family straight into exposition text, for
// collectors with thousands of series: no MetricFamily, no allocation per series. The HELP and
// TYPE lines go out with the first sample, so a family without samples leaves no trace, as
// FamilyBuilder::move_to() does. The text is what write_exposition() writes for the same family.
class FamilyTextWriter {
 public:
  // (label name, label value)
  using Label = std::pair<std::string_view, std::string_view>;

  // `name` and `help` must outlive the writer.
  FamilyTextWriter(std::string& out, std::string_view name, std::string_view help,
                   prometheus::MetricType type = prometheus::MetricType::Gauge);

  void add(std::initializer_list<Label> labels, double value);

  // A sample whose label text the caller writes, for label text prepared ahead: appends the HELP
  // and TYPE lines if this is the first sample, then `name{`, and returns the text to append
  // `label="value",...` to; end_sample() closes it with `} value`. The caller escapes the values.
  std::string& begin_sample();
  void end_sample(double value);

 private:
  std::string& out_;
  std::string_view name_;
  std::string_view help_;
  prometheus::MetricType type_;
  bool started_ = false;
};

// A prometheus::Collectable that can also write its exposition text itself, without building
// MetricFamily values; render_metrics() prefers it. CollectText() appends what
// write_exposition(Collect()) would (measured values such as durations aside).
class TextCollectable {
 public:
  virtual ~TextCollectable() = default;
  virtual void CollectText(std::string& out) const = 0;
};

}  // namespace thinpool
