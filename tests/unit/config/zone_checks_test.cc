// Zone content in YAML is judged by zone::compile's rules (zone::checkSources), reported at the
// record's own `name:` and `type:` keys.
#include <gtest/gtest.h>

#include <string>

#include "understudy/common/diagnostic.h"
#include "understudy/config/config.h"

namespace understudy::config {
namespace {

// The loader hands zone content to compile's checks (checkSources) with the name: and type:
// locations: an entry with several values is several records, but one mistake, reported once.
TEST(LoaderZoneChecks, OwnerAndTypeErrorsNameTheirKeysOnce) {
  try {
    loadString(
        "zones:\n  - name: example.test\n    records:\n"
        "      - { name: www.other.test., type: A, values: [192.0.2.1, 192.0.2.2] }\n"
        "      - { name: x, type: any, values: [a, b] }\n",
        "t.yaml");
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.yaml:4:17: zones[0].records[0].name: record owner 'www.other.test.' is outside "
              "zone 'example.test.'\n"
              "t.yaml:5:26: zones[0].records[1].type: type ANY cannot appear in zone data");
  }
}

}  // namespace
}  // namespace understudy::config
