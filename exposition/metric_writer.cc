#include "exposition/metric_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace thinpool {
namespace {

// Longest sample value: "-1.234567890123457e-308" is 23 characters.
constexpr size_t kMaxSampleValueChars = 24;

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Untyped:
      return "untyped";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

bool is_ascii(std::string_view text) {
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, text.data() + i, sizeof word);
    if ((word & 0x8080808080808080ULL) != 0) {
      return false;
    }
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      return false;
    }
  }
  return true;
}

// The length of the well-formed UTF-8 sequence `text` starts with (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when it does not start with one.
size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xc0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead >= 0xc2 && lead <= 0xdf) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!continuation(1) || !continuation(2)) {
      return 0;
    }
    const unsigned char second = byte(1);
    if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second > 0x9f)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) {
      return 0;
    }
    const unsigned char second = byte(1);
    if ((lead == 0xf0 && second < 0x90) || (lead == 0xf4 && second > 0x8f)) {
      return 0;  // overlong, or above U+10FFFF
    }
    return 4;
  }
  return 0;
}

// `value` in decimal at `at` (room for 20 digits); the end. Two digits at a time from the back,
// without first counting the digits as std::to_chars does: half its instructions, and two samples
// per thin volume are written with it.
char* write_decimal(uint64_t value, char* at) {
  static constexpr char kPairs[] =
      "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243"
      "4445464748495051525354555657585960616263646566676869707172737475767778798081828384858687"
      "888990919293949596979899";
  char digits[20];
  char* first = digits + sizeof digits;
  while (value >= 100) {
    const uint64_t pair = value % 100;
    value /= 100;
    first -= 2;
    std::memcpy(first, kPairs + 2 * pair, 2);
  }
  if (value >= 10) {
    first -= 2;
    std::memcpy(first, kPairs + 2 * value, 2);
  } else {
    *--first = static_cast<char>('0' + value);
  }
  const size_t count = static_cast<size_t>(digits + sizeof digits - first);
  std::memcpy(at, first, count);
  return at + count;
}

void check_label_count(const Family& family, std::span<const std::string_view> label_values) {
  if (label_values.size() != family.label_names.size()) {
    throw std::logic_error(fmt::format("family {} has {} labels, a sample gave {} values",
                                       family.name, family.label_names.size(),
                                       label_values.size()));
  }
}

// One sample line: the family's name, its labels (values escaped here) and the value.
void append_sample_line(const Family& family, std::span<const std::string_view> label_values,
                        double value, std::string& out) {
  out.append(family.name);
  char separator = '{';
  for (size_t i = 0; i < label_values.size(); ++i) {
    out.push_back(separator);
    out.append(family.label_names[i]).append("=\"");
    append_label_value(label_values[i], out);
    out.push_back('"');
    separator = ',';
  }
  if (!label_values.empty()) {
    out.push_back('}');
  }
  out.push_back(' ');
  append_sample_value(value, out);
  out.push_back('\n');
}

}  // namespace

FamilySamples MetricWriter::family(const Family& family) {
  if (family.type != MetricType::Gauge && family.type != MetricType::Counter &&
      family.type != MetricType::Untyped) {
    throw std::logic_error(
        fmt::format("family {}: only gauges, counters and untyped samples are "
                    "written",
                    family.name));
  }
  if (std::find(started_.begin(), started_.end(), family.name) != started_.end()) {
    throw std::logic_error(fmt::format("family {} written twice in one scrape", family.name));
  }
  started_.push_back(family.name);
  header_written_ = false;
  return FamilySamples(*this, family, ++generation_);
}

MetricWriter::MetricWriter(std::string& out, size_t piece_size, TextSink sink)
    : out_(out), piece_size_(piece_size), sink_(std::move(sink)) {}

void MetricWriter::flush() {
  if (sink_ && !out_.empty()) {
    hand_over();
  }
}

void MetricWriter::hand_over() {
  handed_over_ += out_.size();
  const auto start = std::chrono::steady_clock::now();
  sink_(out_);
  sink_time_ += std::chrono::steady_clock::now() - start;
  out_.clear();
}

void MetricWriter::piece_written() {
  if (!sink_) {
    return;
  }
  hand_over();
  if (out_.capacity() < piece_size_) {
    // The sink took the string's memory with the text: room for the next piece at once, not
    // grown a doubling at a time. A sample or two more than a piece fits without growing.
    out_.reserve(piece_size_ + piece_size_ / 4);
  }
}

bool MetricWriter::roll_back(Mark mark) {
  if (mark.text_size < handed_over_) {
    return false;
  }
  out_.resize(mark.text_size - handed_over_);
  started_.resize(mark.families);
  ++generation_;  // samples of a family opened before the mark can no longer be added
  return true;
}

void FamilySamples::begin_samples() {
  MetricWriter& writer = *writer_;
  if (generation_ != writer.generation_) {
    throw std::logic_error(
        fmt::format("a sample of family {} written after the next family started", family_->name));
  }
  if (!writer.header_written_) {
    std::string& out = writer.out_;
    // prometheus-cpp writes HELP text as is, without escaping.
    if (!family_->help.empty()) {
      out.append("# HELP ").append(family_->name).append(" ").append(family_->help).append("\n");
    }
    out.append("# TYPE ")
        .append(family_->name)
        .append(" ")
        .append(type_name(family_->type))
        .append("\n");
    writer.header_written_ = true;
  }
}

void FamilySamples::add(std::span<const std::string_view> label_values, double value) {
  check_label_count(*family_, label_values);
  begin_samples();
  append_sample_line(*family_, label_values, value, writer_->out_);
  writer_->sample_written();
}

void FamilySamples::add_label_text(std::initializer_list<std::string_view> pieces, uint64_t value) {
  begin_samples();
  std::string& out = writer_->out_;
  out.append(family_->name);
  out.push_back('{');
  for (std::string_view piece : pieces) {
    out.append(piece);
  }
  constexpr uint64_t kExactInDouble = uint64_t{1} << 53;
  if (value >= kExactInDouble) {  // written as the double it is
    out.append("} ");
    append_sample_value(value, out);
    out.push_back('\n');
    writer_->sample_written();
    return;
  }
  // The line's end in one append, its digits written from the back without first counting them
  // (as std::to_chars does): the thin volume collector writes two of these per volume.
  std::array<char, 24> tail;
  char* at = tail.data();
  *at++ = '}';
  *at++ = ' ';
  at = write_decimal(value, at);
  *at++ = '\n';
  out.append(tail.data(), at);
  writer_->sample_written();
}

void append_label_value(std::string_view value, std::string& out) {
  if (value.empty()) {
    return;
  }
  // Almost no value needs escaping: three vectorized memchr scans and a word-wise check for bytes
  // above 0x7f beat a loop over every byte.
  const char* data = value.data();
  if (is_ascii(value) && std::memchr(data, '\\', value.size()) == nullptr &&
      std::memchr(data, '"', value.size()) == nullptr &&
      std::memchr(data, '\n', value.size()) == nullptr) {
    out.append(value);
    return;
  }
  size_t start = 0;  // the bytes since `start` are written as they are
  for (size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      if (const size_t length = utf8_sequence_length(value.substr(i)); length > 0) {
        i += length;
        continue;
      }
      // Not UTF-8: Prometheus would refuse the whole scrape. The byte is written as the four
      // characters \xNN (its value in hex), the backslash escaped as the format wants.
      constexpr char kHex[] = "0123456789abcdef";
      out.append(value.data() + start, i - start);
      out.append("\\\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      start = ++i;
      continue;
    }
    if (c == '\\' || c == '"' || c == '\n') {
      out.append(value.data() + start, i - start);
      out.push_back('\\');
      out.push_back(c == '\n' ? 'n' : static_cast<char>(c));
      start = i + 1;
    }
    ++i;
  }
  out.append(value.data() + start, value.size() - start);
}

void append_sample_value(double value, std::string& out) {
  if (std::isnan(value)) {
    out.append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  std::array<char, kMaxSampleValueChars + 8> buffer;
  char* end = nullptr;
  // Whole numbers below 1e16 have at most 16 digits, which "%.16g" writes in full: the
  // integer path gives the same text without the floating-point formatter.
  if (std::fabs(value) < 1e16 && value == std::trunc(value)) {
    char* first = buffer.data();
    if (std::signbit(value)) {
      *first++ = '-';  // also "-0" for negative zero, as printf writes it
    }
    end =
        std::to_chars(first, buffer.data() + buffer.size(), static_cast<int64_t>(std::fabs(value)))
            .ptr;
  } else {
    // Specified as printf's "%.16g" in the C locale, which is what libstdc++'s operator<< with
    // precision 16 produces for prometheus-cpp.
    end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                        std::chars_format::general, 16)
              .ptr;
  }
  out.append(buffer.data(), end);
}

void append_sample_value(uint64_t value, std::string& out) {
  constexpr uint64_t kExactInDouble = uint64_t{1} << 53;
  if (value >= kExactInDouble) {
    append_sample_value(static_cast<double>(value), out);
    return;
  }
  std::array<char, 20> buffer;
  out.append(buffer.data(), write_decimal(value, buffer.data()));
}

}  // namespace thinpool
