#include "prometheus.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace understudy::control {

namespace {

const char* typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string Exposition::escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Exposition::escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Exposition::formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integers (counters, gauges, bucket bounds like 1 or 10) print without a fraction; everything
  // else with the shortest spelling that reads back as the same double.
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

void Exposition::family(std::string_view name, std::string_view help, MetricType type) {
  family_ = std::string(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += typeName(type);
  out_ += '\n';
}

void Exposition::writeSeries(const Labels& labels, std::string_view extra_name,
                             std::string_view extra_value, std::string_view suffix) {
  out_ += family_;
  out_ += suffix;
  if (!labels.empty() || !extra_name.empty()) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view name, std::string_view value) {
      if (!first) out_ += ',';
      first = false;
      out_ += name;
      out_ += "=\"";
      out_ += escapeLabelValue(value);
      out_ += '"';
    };
    for (const auto& [name, value] : labels) add(name, value);
    if (!extra_name.empty()) add(extra_name, extra_value);
    out_ += '}';
  }
  out_ += ' ';
}

void Exposition::sample(const Labels& labels, double value, std::string_view suffix) {
  writeSeries(labels, {}, {}, suffix);
  out_ += formatValue(value);
  out_ += '\n';
}

void Exposition::sample(const Labels& labels, uint64_t value, std::string_view suffix) {
  writeSeries(labels, {}, {}, suffix);
  out_ += std::to_string(value);
  out_ += '\n';
}

void Exposition::histogram(const Labels& labels, std::span<const double> bounds,
                           std::span<const uint64_t> cumulative, uint64_t count, double sum) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    writeSeries(labels, "le", formatValue(bounds[i]), "_bucket");
    out_ += std::to_string(i < cumulative.size() ? cumulative[i] : count);
    out_ += '\n';
  }
  writeSeries(labels, "le", "+Inf", "_bucket");
  out_ += std::to_string(count);
  out_ += '\n';
  sample(labels, sum, "_sum");
  sample(labels, count, "_count");
}

}  // namespace understudy::control
