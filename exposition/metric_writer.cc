#include "exposition/metric_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

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

void MetricWriter::roll_back(Mark mark) {
  out_.resize(mark.text_size);
  started_.resize(mark.families);
  ++generation_;  // samples of a family opened before the mark can no longer be added
}

void FamilySamples::begin_sample() {
  MetricWriter& writer = *writer_;
  if (generation_ != writer.generation_) {
    throw std::logic_error(
        fmt::format("a sample of family {} written after the next family started", family_->name));
  }
  std::string& out = writer.out_;
  if (!writer.header_written_) {
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
  out.append(family_->name);
}

void FamilySamples::add(std::span<const std::string_view> label_values, double value) {
  if (label_values.size() != family_->label_names.size()) {
    throw std::logic_error(fmt::format("family {} has {} labels, a sample gave {} values",
                                       family_->name, family_->label_names.size(),
                                       label_values.size()));
  }
  begin_sample();
  std::string& out = writer_->out_;
  char separator = '{';
  for (size_t i = 0; i < label_values.size(); ++i) {
    out.push_back(separator);
    out.append(family_->label_names[i]).append("=\"");
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

void FamilySamples::add_label_text(std::initializer_list<std::string_view> pieces, double value) {
  begin_sample();
  std::string& out = writer_->out_;
  out.push_back('{');
  for (std::string_view piece : pieces) {
    out.append(piece);
  }
  out.append("} ");
  append_sample_value(value, out);
  out.push_back('\n');
}

void append_label_value(std::string_view value, std::string& out) {
  if (value.empty()) {
    return;
  }
  // Almost no value needs escaping: three vectorized memchr scans beat a loop over every byte.
  const char* data = value.data();
  if (std::memchr(data, '\\', value.size()) == nullptr &&
      std::memchr(data, '"', value.size()) == nullptr &&
      std::memchr(data, '\n', value.size()) == nullptr) {
    out.append(value);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') {
      continue;
    }
    out.append(value.data() + start, i - start);
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    start = i + 1;
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

}  // namespace thinpool
