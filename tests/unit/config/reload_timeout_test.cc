// server.reload_timeout: the bound on a reload's load + compile (issue 11).
#include <gtest/gtest.h>

#include "understudy/config/config.h"

namespace understudy::config {
namespace {

std::string errorOf(const std::string& yaml) {
  try {
    loadString(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.diagnostics().empty() ? "" : e.diagnostics()[0].str();
  }
  return "";
}

TEST(ReloadTimeout, DefaultsToAMinuteAndTakesADuration) {
  EXPECT_EQ(loadString("zones: []\n", "test.yaml").server.reload_timeout, std::chrono::seconds(60));
  EXPECT_EQ(loadString("server: { reload_timeout: 5m }\n", "test.yaml").server.reload_timeout,
            std::chrono::minutes(5));
  EXPECT_EQ(loadString("server: { reload_timeout: 250ms }\n", "test.yaml").server.reload_timeout,
            std::chrono::milliseconds(250));
}

TEST(ReloadTimeout, OutOfRangeOrMalformedIsAnError) {
  EXPECT_EQ(errorOf("server: { reload_timeout: 2h }\n"),
            "test.yaml:1:27: server.reload_timeout: duration 2h out of range (10ms..1h)");
  EXPECT_EQ(errorOf("server: { reload_timeout: 5ms }\n"),
            "test.yaml:1:27: server.reload_timeout: duration 5ms out of range (10ms..1h)");
  EXPECT_NE(errorOf("server: { reload_timeout: soon }\n").find("invalid duration 'soon'"),
            std::string::npos);
}

}  // namespace
}  // namespace understudy::config
