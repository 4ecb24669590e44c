#include "tests/support/exposition_text.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace thinpool::testing_support {
namespace {

prometheus::MetricType type_of(std::string_view name) {
  if (name == "counter") {
    return prometheus::MetricType::Counter;
  }
  if (name == "gauge") {
    return prometheus::MetricType::Gauge;
  }
  return prometheus::MetricType::Untyped;
}

double value_of(std::string_view text) {
  if (text == "Nan") {
    return std::nan("");
  }
  if (text == "+Inf") {
    return HUGE_VAL;
  }
  if (text == "-Inf") {
    return -HUGE_VAL;
  }
  return std::strtod(std::string(text).c_str(), nullptr);
}

// `{name="value",...}` starting at `at` into `labels`; returns the position after the brace.
size_t parse_labels(std::string_view line, size_t at,
                    std::vector<prometheus::ClientMetric::Label>& labels) {
  ++at;  // '{'
  while (at < line.size() && line[at] != '}') {
    const size_t equals = line.find("=\"", at);
    if (equals == std::string_view::npos) {
      ADD_FAILURE() << "no label value in: " << line;
      return line.size();
    }
    prometheus::ClientMetric::Label label;
    label.name = std::string(line.substr(at, equals - at));
    at = equals + 2;
    while (at < line.size() && line[at] != '"') {
      if (line[at] == '\\' && at + 1 < line.size()) {
        ++at;
        label.value.push_back(line[at] == 'n' ? '\n' : line[at]);
      } else {
        label.value.push_back(line[at]);
      }
      ++at;
    }
    labels.push_back(std::move(label));
    at += 1;  // closing quote
    if (at < line.size() && line[at] == ',') {
      ++at;
    }
  }
  return at + 1;
}

}  // namespace

std::vector<prometheus::MetricFamily> parse_exposition(std::string_view text) {
  std::vector<prometheus::MetricFamily> families;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# HELP ")) {
      const size_t name_end = line.find(' ', 7);
      families.emplace_back();
      families.back().name = line.substr(7, name_end - 7);
      families.back().help = name_end == std::string::npos ? "" : line.substr(name_end + 1);
      // HELP text is written as is: a help with a newline continues on the next lines.
      while (in.peek() != '#' && in.peek() != EOF) {
        std::string more;
        std::getline(in, more);
        if (more.starts_with(families.back().name)) {
          ADD_FAILURE() << "samples before TYPE: " << more;
          break;
        }
        families.back().help += "\n" + more;
      }
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const size_t name_end = line.find(' ', 7);
      const std::string name = line.substr(7, name_end - 7);
      if (families.empty() || families.back().name != name) {
        families.emplace_back();
        families.back().name = name;
      }
      families.back().type = type_of(line.substr(name_end + 1));
      continue;
    }
    if (families.empty() || !line.starts_with(families.back().name)) {
      ADD_FAILURE() << "a sample outside its family: " << line;
      continue;
    }
    prometheus::ClientMetric metric;
    size_t at = families.back().name.size();
    if (at < line.size() && line[at] == '{') {
      at = parse_labels(line, at, metric.label);
    }
    const double value = value_of(std::string_view(line).substr(at + 1));
    switch (families.back().type) {
      case prometheus::MetricType::Counter:
        metric.counter.value = value;
        break;
      case prometheus::MetricType::Untyped:
        metric.untyped.value = value;
        break;
      default:
        metric.gauge.value = value;
    }
    families.back().metric.push_back(std::move(metric));
  }
  return families;
}

std::string serialize(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

bool has_line(std::string_view text, std::string_view line) {
  // Appended, not "\n" + std::string(...): g++ 12 at -O3 warns on that (-Wrestrict, a false
  // positive, GCC bug 105329).
  std::string wrapped = "\n";
  wrapped += text;
  std::string wanted = "\n";
  wanted += line;
  wanted += '\n';
  return wrapped.find(wanted) != std::string::npos;
}

std::string without_lines(std::string_view text, const std::vector<std::string>& prefixes) {
  std::istringstream in{std::string(text)};
  std::string out;
  for (std::string line; std::getline(in, line);) {
    bool drop = false;
    for (const std::string& prefix : prefixes) {
      drop = drop || line.starts_with(prefix);
    }
    if (!drop) {
      out += line + "\n";
    }
  }
  return out;
}

std::map<std::string, double> single_values(std::string_view text) {
  std::map<std::string, double> values;
  for (const auto& family : parse_exposition(text)) {
    if (family.metric.size() == 1 && family.metric[0].label.empty()) {
      const auto& metric = family.metric[0];
      values[family.name] = family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                           : metric.gauge.value;
    }
  }
  return values;
}

}  // namespace thinpool::testing_support
