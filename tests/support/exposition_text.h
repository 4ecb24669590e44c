// Reading exposition text back in tests: into prometheus-cpp's families (to serialize again with
// TextSerializer, the reference the writer is held to, or to look values up), and line checks.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace thinpool::testing_support {

// The families of exposition text as the exporter writes it (HELP, TYPE, then samples of gauges,
// counters and untyped families; label values escaped). Fails the current test on a line it
// cannot read.
std::vector<prometheus::MetricFamily> parse_exposition(std::string_view text);

// prometheus::TextSerializer's text for `families`.
std::string serialize(const std::vector<prometheus::MetricFamily>& families);

// True when `line` is a whole line of `text`.
bool has_line(std::string_view text, std::string_view line);

// `text` without the lines that start with one of `prefixes`.
std::string without_lines(std::string_view text, const std::vector<std::string>& prefixes);

// The value of the one sample of each family name (families with a single unlabelled sample).
std::map<std::string, double> single_values(std::string_view text);

}  // namespace thinpool::testing_support
