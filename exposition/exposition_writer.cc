#include "exposition/exposition_writer.h"

#include <prometheus/text_serializer.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

namespace thinpool {
namespace {

// Longest sample value: "-1.234567890123457e-308" is 23 characters.
constexpr size_t kMaxSampleValueChars = 24;
// " " + the longest int64 timestamp.
constexpr size_t kMaxTimestampChars = 21;

std::string_view type_name(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Untyped:
      return "untyped";
    case prometheus::MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

double sample_value(const prometheus::MetricFamily& family,
                    const prometheus::ClientMetric& metric) {
  switch (family.type) {
    case prometheus::MetricType::Counter:
      return metric.counter.value;
    case prometheus::MetricType::Untyped:
      return metric.untyped.value;
    default:
      return metric.gauge.value;
  }
}

bool written_directly(prometheus::MetricType type) {
  return type == prometheus::MetricType::Counter || type == prometheus::MetricType::Gauge ||
         type == prometheus::MetricType::Untyped;
}

void write_header(std::string_view name, std::string_view help, prometheus::MetricType type,
                  std::string& out) {
  if (!help.empty()) {
    // prometheus-cpp writes HELP text as is, without escaping.
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  }
  out.append("# TYPE ").append(name).append(" ").append(type_name(type)).append("\n");
}

// `name{label="value",...} value`, without the timestamp and the newline. Labels are anything
// with `name` and `value` members or (name, value) pairs.
template <typename Labels>
void write_sample_head(std::string_view name, const Labels& labels, double value,
                       std::string& out) {
  out.append(name);
  if (labels.size() != 0) {
    char separator = '{';
    for (const auto& label : labels) {
      out.push_back(separator);
      if constexpr (requires { label.name; }) {
        out.append(label.name);
        out.append("=\"");
        append_label_value(label.value, out);
      } else {
        out.append(label.first);
        out.append("=\"");
        append_label_value(label.second, out);
      }
      out.push_back('"');
      separator = ',';
    }
    out.push_back('}');
  }
  out.push_back(' ');
  append_sample_value(value, out);
}

void write_sample(const prometheus::MetricFamily& family, const prometheus::ClientMetric& metric,
                  std::string& out) {
  write_sample_head(family.name, metric.label, sample_value(family, metric), out);
  if (metric.timestamp_ms != 0) {
    std::array<char, kMaxTimestampChars> buffer;
    buffer[0] = ' ';
    auto result =
        std::to_chars(buffer.data() + 1, buffer.data() + buffer.size(), metric.timestamp_ms);
    out.append(buffer.data(), result.ptr);
  }
  out.push_back('\n');
}

}  // namespace

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

size_t exposition_size_bound(const std::vector<prometheus::MetricFamily>& families) {
  size_t size = 0;
  for (const auto& family : families) {
    // "# HELP <name> <help>\n# TYPE <name> histogram\n"
    size += 2 * family.name.size() + family.help.size() + 32;
    for (const auto& metric : family.metric) {
      size += family.name.size() + 2 + kMaxSampleValueChars + kMaxTimestampChars + 1;
      for (const auto& label : metric.label) {
        size += label.name.size() + label.value.size() + 4;
      }
    }
  }
  return size;
}

void write_exposition(const std::vector<prometheus::MetricFamily>& families, std::string& out) {
  out.reserve(out.size() + exposition_size_bound(families));
  for (const auto& family : families) {
    if (!written_directly(family.type)) {
      std::ostringstream text;
      prometheus::TextSerializer().Serialize(text, {family});
      out.append(text.str());
      continue;
    }
    write_header(family.name, family.help, family.type, out);
    for (const auto& metric : family.metric) {
      write_sample(family, metric, out);
    }
  }
}

FamilyTextWriter::FamilyTextWriter(std::string& out, std::string_view name, std::string_view help,
                                   prometheus::MetricType type)
    : out_(out), name_(name), help_(help), type_(type) {}

void FamilyTextWriter::add(std::initializer_list<Label> labels, double value) {
  if (!started_) {
    write_header(name_, help_, type_, out_);
    started_ = true;
  }
  write_sample_head(name_, labels, value, out_);
  out_.push_back('\n');
}

std::string& FamilyTextWriter::begin_sample() {
  if (!started_) {
    write_header(name_, help_, type_, out_);
    started_ = true;
  }
  out_.append(name_);
  out_.push_back('{');
  return out_;
}

void FamilyTextWriter::end_sample(double value) {
  out_.append("} ");
  append_sample_value(value, out_);
  out_.push_back('\n');
}

}  // namespace thinpool
