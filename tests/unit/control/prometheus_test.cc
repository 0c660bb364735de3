// The Prometheus text exposition writer (format 0.0.4): escaping, number spelling, family headers
// and the shape of a histogram, byte for byte.
#include "prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace understudy::control {
namespace {

TEST(Exposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(Exposition::escapeLabelValue(R"(a\b"c)"
                                         "\n"
                                         "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(Exposition::escapeLabelValue("plain 192.0.2.1:80 ünïcode"),
            "plain 192.0.2.1:80 ünïcode");
}

TEST(Exposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(Exposition::escapeHelp("say \"hi\"\\\nbye"), "say \"hi\"\\\\\\nbye");
}

TEST(Exposition, ValuesAreSpelledAsPrometheusReadsThem) {
  struct Case {
    double value;
    const char* text;
  } cases[] = {
      {0, "0"},
      {1, "1"},
      {10, "10"},
      {0.001, "0.001"},
      {0.25, "0.25"},
      {2.5, "2.5"},
      {1700000000.5, "1700000000.5"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& c : cases) EXPECT_EQ(Exposition::formatValue(c.value), c.text) << c.value;
  // Shortest spelling that reads back as the same double.
  EXPECT_EQ(std::strtod(Exposition::formatValue(0.1 + 0.2).c_str(), nullptr), 0.1 + 0.2);
}

TEST(Exposition, FamilyHeaderThenSamples) {
  Exposition x;
  x.family("understudy_queries_total", "DNS queries.\nBy protocol.", MetricType::kCounter);
  x.sample({{"protocol", "udp"}, {"qtype", "A"}}, uint64_t{42});
  x.sample({{"protocol", "tcp"}, {"qtype", "AAAA"}}, uint64_t{0});
  x.family("understudy_tcp_connections", "Open TCP connections.", MetricType::kGauge);
  x.sample({}, uint64_t{3});
  x.family("understudy_build_info", "Build.", MetricType::kGauge);
  x.sample({{"version", "0.1.0 \"beta\""}}, 1.0);
  EXPECT_EQ(x.text(),
            "# HELP understudy_queries_total DNS queries.\\nBy protocol.\n"
            "# TYPE understudy_queries_total counter\n"
            "understudy_queries_total{protocol=\"udp\",qtype=\"A\"} 42\n"
            "understudy_queries_total{protocol=\"tcp\",qtype=\"AAAA\"} 0\n"
            "# HELP understudy_tcp_connections Open TCP connections.\n"
            "# TYPE understudy_tcp_connections gauge\n"
            "understudy_tcp_connections 3\n"
            "# HELP understudy_build_info Build.\n"
            "# TYPE understudy_build_info gauge\n"
            "understudy_build_info{version=\"0.1.0 \\\"beta\\\"\"} 1\n");
}

TEST(Exposition, HistogramHasCumulativeBucketsInfSumAndCount) {
  Exposition x;
  x.family("understudy_probe_duration_seconds", "Probe duration.", MetricType::kHistogram);
  const double bounds[] = {0.01, 0.1, 1};
  const uint64_t cumulative[] = {1, 3, 4};
  x.histogram({{"check", "web"}, {"target", "127.0.0.1:80"}}, bounds, cumulative, 5, 3.25);
  const char* l = R"({check="web",target="127.0.0.1:80")";
  std::string expected = std::string("# HELP understudy_probe_duration_seconds Probe duration.\n") +
                         "# TYPE understudy_probe_duration_seconds histogram\n" +
                         "understudy_probe_duration_seconds_bucket" + l + ",le=\"0.01\"} 1\n" +
                         "understudy_probe_duration_seconds_bucket" + l + ",le=\"0.1\"} 3\n" +
                         "understudy_probe_duration_seconds_bucket" + l + ",le=\"1\"} 4\n" +
                         "understudy_probe_duration_seconds_bucket" + l + ",le=\"+Inf\"} 5\n" +
                         "understudy_probe_duration_seconds_sum" + l + "} 3.25\n" +
                         "understudy_probe_duration_seconds_count" + l + "} 5\n";
  EXPECT_EQ(x.text(), expected);
}

TEST(Exposition, HistogramWithoutLabelsStillLabelsItsBuckets) {
  Exposition x;
  x.family("h_seconds", "h.", MetricType::kHistogram);
  const double bounds[] = {0.5};
  const uint64_t cumulative[] = {0};
  x.histogram({}, bounds, cumulative, 0, 0);
  EXPECT_EQ(x.text(),
            "# HELP h_seconds h.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.5\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\n"
            "h_seconds_sum 0\nh_seconds_count 0\n");
}

}  // namespace
}  // namespace understudy::control
