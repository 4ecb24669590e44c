// The one way series reach the wire: a collector describes each of its metric families once
// (Family) and writes their samples into a MetricWriter, which appends the Prometheus text
// exposition format (0.0.4) to one string, or hands it to a sink in pieces as it goes.
//
// The text is, byte for byte, what prometheus::TextSerializer (prometheus-cpp 1.0.1, Debian 12)
// writes for the same samples; tests/exposition/metric_writer_test.cc holds it to that against
// TextSerializer itself. It is written directly, not through prometheus::MetricFamily values and
// TextSerializer, because those cost about 30,000 instructions per series (one std::ostream insert
// per character), 80% of a 10,000-volume scrape; this writer appends whole label values and
// formats numbers with std::to_chars (BENCHMARKS.md).
#pragma once

#include <prometheus/metric_type.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace thinpool {

using MetricType = prometheus::MetricType;

// A metric family as the collector that writes it describes it, once: the name, the HELP text
// (where the value comes from), the type, and the label names every sample gives values for, in
// that order. Families are constants with static storage (their strings are views).
struct Family {
  std::string_view name;
  std::string_view help;
  MetricType type = MetricType::Gauge;
  std::span<const std::string_view> label_names;
};

class MetricWriter;

// The samples of one family, open from MetricWriter::family() until the next family starts.
class FamilySamples {
 public:
  // A sample with one value per label name, in the family's order; the values are escaped here.
  void add(std::span<const std::string_view> label_values, double value);
  void add(std::initializer_list<std::string_view> label_values, double value) {
    add(std::span(label_values.begin(), label_values.size()), value);
  }

  // A sample whose label text the caller keeps ready: `pieces` joined make
  // `name1="value1",name2="value2"` for the family's label names, values already escaped
  // (append_label_value). For label text that costs more to make than to keep: the thin volume
  // collector's, made once per device (thin/device_names.h), and the lvm collector's per-LV
  // series, kept per VG (collectors/lvm_volume_series.h). The value is a count (bytes, seconds),
  // written as append_sample_value writes it.
  void add_label_text(std::initializer_list<std::string_view> pieces, uint64_t value);

 private:
  friend class MetricWriter;
  FamilySamples(MetricWriter& writer, const Family& family, uint32_t generation)
      : writer_(&writer), family_(&family), generation_(generation) {}
  // Checks that the family is still open and writes its HELP and TYPE lines before its first
  // sample.
  void begin_samples();

  MetricWriter* writer_;
  const Family* family_;
  uint32_t generation_;
};

// Takes a piece of the text (MetricWriter): what it leaves in `text` is dropped, and the writer
// goes on in the same string.
using TextSink = std::function<void(std::string& text)>;

// Appends the exposition of one scrape to `out`. A family's HELP and TYPE lines go out with its
// first sample, so a family without samples leaves no trace. The samples of a family are written
// together and a family once: writing to a family after the next one started, or starting a family
// twice, throws std::logic_error (a collector's bug, which the scrape reports as its failure).
class MetricWriter {
 public:
  explicit MetricWriter(std::string& out) : out_(out) {}
  // The text handed to `sink` in pieces as it is written: at the end of the sample that brings
  // `out` to `piece_size` bytes or more, and at flush(). `out` keeps at least `piece_size` bytes of
  // room between pieces, so a body of any size is never held whole.
  MetricWriter(std::string& out, size_t piece_size, TextSink sink);
  MetricWriter(const MetricWriter&) = delete;
  MetricWriter& operator=(const MetricWriter&) = delete;

  // Ends the previous family and opens `family` for samples.
  FamilySamples family(const Family& family);

  // Hands what is written to the sink (the text's end); nothing without a sink.
  void flush();
  // The bytes written so far, handed over or not.
  size_t size() const { return handed_over_ + out_.size(); }
  // The time spent in the sink so far (compressing, waiting for the client): not the writer's.
  std::chrono::steady_clock::duration sink_time() const { return sink_time_; }

  // Where the text stands now, and the families written so far: a collector that fails is rolled
  // back to the mark taken before it ran.
  struct Mark {
    size_t text_size = 0;
    size_t families = 0;
  };
  Mark mark() const { return {size(), started_.size()}; }
  // False, and nothing changed, when some of the text since `mark` was handed to the sink already:
  // it cannot be taken back.
  [[nodiscard]] bool roll_back(Mark mark);

 private:
  friend class FamilySamples;
  // After a sample: a piece to the sink once there is enough text.
  void sample_written() {
    if (out_.size() >= piece_size_) {
      piece_written();
    }
  }
  void piece_written();
  void hand_over();

  std::string& out_;
  size_t piece_size_ = SIZE_MAX;
  TextSink sink_;
  size_t handed_over_ = 0;                           // bytes given to the sink
  std::chrono::steady_clock::duration sink_time_{};  // spent in the sink
  std::vector<std::string_view> started_;            // names of the families opened so far
  uint32_t generation_ = 0;      // counts family() calls: the open family's number
  bool header_written_ = false;  // the open family's HELP and TYPE lines
};

// A label value as the text format wants it: backslash, double quote and newline escaped as
// \\, \" and \n; UTF-8 as is. A byte that is not part of well-formed UTF-8 (a device name may hold
// any byte but '/'; Prometheus refuses a scrape with such a label value) becomes the four
// characters \xNN, its value in lowercase hex, which the text carries as \\xNN.
void append_label_value(std::string_view value, std::string& out);

// A sample value as prometheus-cpp writes it: "Nan", "+Inf", "-Inf", otherwise printf's "%.16g"
// in the C locale (integers below 1e16 in full, "-0" for negative zero).
void append_sample_value(double value, std::string& out);
// The same text for a count: the count as a double would be written (digits straight from the
// integer while the double holds it exactly, below 2^53; above, through the double).
void append_sample_value(uint64_t value, std::string& out);

}  // namespace thinpool
