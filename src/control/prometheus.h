// A small hand-written writer for the Prometheus text exposition format 0.0.4 (DESIGN.md: no
// Debian library for it). It only knows the format: HELP/TYPE lines, escaping, number spelling
// and the shape of a histogram; which metrics exist is metrics.cc's business.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace understudy::control {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram };

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Exposition {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a metric family. Every sample of the family must follow before the next family: the
  // format does not allow a family to be split.
  void family(std::string_view name, std::string_view help, MetricType type);
  // One sample of the current family; `suffix` is appended to the family name ("_bucket").
  void sample(const Labels& labels, double value, std::string_view suffix = {});
  void sample(const Labels& labels, uint64_t value, std::string_view suffix = {});
  // A whole histogram series: `cumulative[i]` observations were <= `bounds[i]`; the +Inf bucket
  // and _count are `count`, _sum is `sum`.
  void histogram(const Labels& labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, uint64_t count, double sum);

  const std::string& text() const { return out_; }

  // Exposed for tests.
  static std::string escapeLabelValue(std::string_view value);  // \\, \", \n
  static std::string escapeHelp(std::string_view help);         // \\, \n
  static std::string formatValue(double value);                 // 1, 0.25, +Inf, NaN

 private:
  void writeSeries(const Labels& labels, std::string_view extra_name, std::string_view extra_value,
                   std::string_view suffix);

  std::string out_;
  std::string family_;
};

}  // namespace understudy::control
