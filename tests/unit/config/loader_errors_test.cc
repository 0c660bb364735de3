// Broken configurations and the exact diagnostics they produce: file:line:column, the key path and
// the message, every error in one pass.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "understudy/config/config.h"

namespace understudy::config {
namespace {

struct Case {
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;  // Diagnostic::str(), in order
};

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const std::string kZones = UNDERSTUDY_TEST_DATA "/zones/";

std::vector<std::string> errorsOf(const std::string& yaml) {
  try {
    loadString(yaml, "test.yaml", UNDERSTUDY_TEST_DATA "/zones");
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

// Lines and columns below count from the first line of each YAML text (no leading newline).
const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"UnknownTopLevelKey", "foo: 1\n", {"test.yaml:1:1: unknown key 'foo'"}},
      {"TopLevelNotAMap", "- a\n", {"test.yaml:1:1: expected a map at the top level"}},
      {"DuplicateTopLevelKey",
       "log: {level: info}\nlog: {level: debug}\n",
       {"test.yaml:2:1: duplicate key 'log'"}},
      {"UnknownServerKey",
       "server:\n  thread: 2\n",
       {"test.yaml:2:3: server: unknown key 'thread'"}},
      {"ServerNotAMap", "server: 5\n", {"test.yaml:1:9: server: expected a map"}},
      {"ThreadsZero",
       "server:\n  threads: 0\n",
       {"test.yaml:2:12: server.threads: value 0 out of range (1..256)"}},
      {"ThreadsTooMany",
       "server:\n  threads: 257\n",
       {"test.yaml:2:12: server.threads: value 257 out of range (1..256)"}},
      {"ThreadsNegative",
       "server:\n  threads: -1\n",
       {"test.yaml:2:12: server.threads: value -1 out of range (1..256)"}},
      {"ThreadsWord",
       "server:\n  threads: many\n",
       {"test.yaml:2:12: server.threads: expected a positive integer or 'auto', got 'many'"}},
      {"ListenNotAList",
       "server:\n  listen: 127.0.0.1:53\n",
       {"test.yaml:2:11: server.listen: expected a list"}},
      {"ListenEmpty",
       "server:\n  listen: []\n",
       {"test.yaml:2:11: server.listen: expected at least one listen address"}},
      {"ListenBadPort",
       "server:\n  listen: [\"127.0.0.1:99999\"]\n",
       {"test.yaml:2:12: server.listen[0]: invalid listen address '127.0.0.1:99999': invalid "
        "port '99999' (expected 0..65535)"}},
      {"ListenHostName",
       "server:\n  listen:\n    - localhost:53\n",
       {"test.yaml:3:7: server.listen[0]: invalid listen address 'localhost:53': 'localhost' is "
        "not a numeric IPv4 address"}},
      {"ListenIpv6PortWithoutBrackets",
       "server:\n  listen:\n    - \"2001:db8::1:99999\"\n",
       {"test.yaml:3:7: server.listen[0]: invalid listen address '2001:db8::1:99999': an IPv6 "
        "address must be in brackets: '[address]:port'"}},
      // "::1:5353" is an address of its own (port 53): it used to bind [::0.1.83.83]:53.
      {"ListenIpv6AmbiguousWithoutBrackets",
       "server:\n  listen: [\"::1:5353\"]\n",
       {"test.yaml:2:12: server.listen[0]: invalid listen address '::1:5353': an IPv6 address "
        "must be in brackets: write '[::1:5353]' (address ::1:5353, port 53), or '[::1]:5353' "
        "(address ::1, port 5353)"}},
      {"ListenIpv6AddressWithoutBrackets",
       "server:\n  listen: [\"2001:db8::1\"]\n",
       {"test.yaml:2:12: server.listen[0]: invalid listen address '2001:db8::1': an IPv6 address "
        "must be in brackets: write '[2001:db8::1]' (address 2001:db8::1, port 53)"}},
      {"ControlListenIpv6WithoutBrackets",
       "control:\n  listen: \"::1:8053\"\n",
       {"test.yaml:2:11: control.listen: invalid listen address '::1:8053': an IPv6 address must "
        "be in brackets: write '[::1:8053]' (address ::1:8053, port 8053), or '[::1]:8053' "
        "(address ::1, port 8053)"}},
      {"ControlListenBadPort",
       "control:\n  listen: \"127.0.0.1:http\"\n",
       {"test.yaml:2:11: control.listen: invalid listen address '127.0.0.1:http': invalid port "
        "'http' (expected 0..65535)"}},
      {"ListenMissingBracket",
       "server:\n  listen:\n    - \"[::1:53\"\n",
       {"test.yaml:3:7: server.listen[0]: invalid listen address '[::1:53': missing ']'"}},
      {"ListenDuplicate",
       "server:\n  listen:\n    - 127.0.0.1:53\n    - \"[::1]:53\"\n    - 127.0.0.1:53\n",
       {"test.yaml:5:7: server.listen[2]: duplicate listen address '127.0.0.1:53' (first given "
        "at test.yaml:3:7)"}},
      {"ListenDuplicateAfterDefaultPort",
       "server:\n  listen: [\"[::1]\", \"[::1]:53\"]\n",
       {"test.yaml:2:21: server.listen[1]: duplicate listen address '[::1]:53' (first given at "
        "test.yaml:2:12)"}},
      {"TcpIdleTimeoutTooShort",
       "server:\n  tcp_idle_timeout: 50ms\n",
       {"test.yaml:2:21: server.tcp_idle_timeout: duration 50ms out of range (100ms..1h)"}},
      {"TcpIdleTimeoutTooLong",
       "server:\n  tcp_idle_timeout: 2h\n",
       {"test.yaml:2:21: server.tcp_idle_timeout: duration 2h out of range (100ms..1h)"}},
      {"TcpIdleTimeoutBadUnit",
       "server:\n  tcp_idle_timeout: 10x\n",
       {"test.yaml:2:21: server.tcp_idle_timeout: invalid duration '10x' (expected e.g. 500ms, "
        "10s, 2m, 1h)"}},
      {"TcpMaxConnectionsZero",
       "server:\n  tcp_max_connections: 0\n",
       {"test.yaml:2:24: server.tcp_max_connections: value 0 out of range (1..1000000)"}},
      {"EdnsUdpSizeTooSmall",
       "server:\n  edns_udp_size: 511\n",
       {"test.yaml:2:18: server.edns_udp_size: value 511 out of range (512..4096)"}},
      {"EdnsUdpSizeNotANumber",
       "server:\n  edns_udp_size: big\n",
       {"test.yaml:2:18: server.edns_udp_size: expected an integer, got 'big'"}},
      {"EdnsUdpSizeList",
       "server:\n  edns_udp_size: [1]\n",
       {"test.yaml:2:18: server.edns_udp_size: expected an integer"}},
      {"NsidTooLong",
       "server:\n  nsid: " + std::string(129, 'n') + "\n",
       {"test.yaml:2:9: server.nsid: too long: 129 octets (at most 128)"}},
      {"NsidNotAString",
       "server:\n  nsid: {name: a}\n",
       {"test.yaml:2:9: server.nsid: expected a string"}},
      {"NsidMissing", "server:\n  nsid:\n", {"test.yaml:2:3: server.nsid: missing value"}},
      {"VersionTooLong",
       "server:\n  threads: 1\n  version: \"" + std::string(200, 'v') + "\"\n",
       {"test.yaml:3:12: server.version: too long: 200 octets (at most 128)"}},
      {"LogLevel",
       "log:\n  level: verbose\n",
       {"test.yaml:2:10: log.level: invalid log level 'verbose' (expected trace, debug, info, "
        "warn, error, critical or off)"}},
      {"UnknownLogKey", "log:\n  file: x\n", {"test.yaml:2:3: log: unknown key 'file'"}},
      {"ZonesNotAList", "zones: {}\n", {"test.yaml:1:8: zones: expected a list"}},
      {"ZoneNotAMap", "zones:\n  - demo.test\n", {"test.yaml:2:5: zones[0]: expected a map"}},
      {"ZoneMissingName",
       "zones:\n  - default_ttl: 60\n",
       {"test.yaml:2:5: zones[0]: missing required key 'name'"}},
      {"ZoneUnknownKey",
       "zones:\n  - name: demo.test\n    ttl: 60\n",
       {"test.yaml:3:5: zones[0]: unknown key 'ttl'"}},
      {"ZoneBadName",
       "zones:\n  - name: a..b\n",
       {"test.yaml:2:11: zones[0].name: invalid zone name 'a..b': Empty label"}},
      {"ZoneLabelTooLong",
       "zones:\n  - name: " + std::string(64, 'a') + ".test\n",
       {"test.yaml:2:11: zones[0].name: invalid zone name '" + std::string(64, 'a') +
        ".test': Label length overflow"}},
      // Names go through dns::parseName; the config words its refusals as ldns did.
      {"ZoneNameEmpty",
       "zones:\n  - name: \"\"\n",
       {"test.yaml:2:11: zones[0].name: invalid zone name '': empty name"}},
      {"ZoneNameDanglingBackslash",
       "zones:\n  - name: 'a\\'\n",
       {"test.yaml:2:11: zones[0].name: invalid zone name 'a\\': Syntax error, bad escape "
        "sequence"}},
      {"RecordNameBadEscape",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: 'a\\300', type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: invalid domain name 'a\\300': Syntax "
        "error, bad escape sequence"}},
      {"RecordNameTooLongWithTheOrigin",
       "zones:\n  - name: demo.test\n    records:\n      - { name: " + std::string(63, 'a') + "." +
           std::string(63, 'a') + "." + std::string(63, 'a') + "." + std::string(57, 'a') +
           ", type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: invalid domain name '" + std::string(63, 'a') +
        "." + std::string(63, 'a') + "." + std::string(63, 'a') + "." + std::string(57, 'a') +
        "': Domainname length overflow"}},
      {"RecordNameUnescapedSpace",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: 'a b', type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: invalid domain name 'a b': contains "
        "whitespace"}},
      {"DuplicateZone",
       "zones:\n  - name: demo.test\n  - name: Demo.Test.\n",
       {"test.yaml:3:5: zones[1]: duplicate zone 'demo.test.' (first defined at "
        "test.yaml:2:5)"}},
      {"DuplicateZoneAfterBrokenZone",
       "zones:\n  - name: demo.test\n    default_ttl: x\n  - name: demo.test\n",
       {"test.yaml:3:18: zones[0].default_ttl: invalid TTL 'x' (expected seconds or e.g. 300, "
        "5m, 1h, 1d)",
        "test.yaml:4:5: zones[1]: duplicate zone 'demo.test.' (first defined at test.yaml:2:5)"}},
      {"DefaultTtlOutOfRange",
       "zones:\n  - name: demo.test\n    default_ttl: 4294967296\n",
       {"test.yaml:3:18: zones[0].default_ttl: TTL 4294967296 out of range (0..2147483647)"}},
      {"DefaultTtlNegative",
       "zones:\n  - name: demo.test\n    default_ttl: -5\n",
       {"test.yaml:3:18: zones[0].default_ttl: TTL -5 out of range (0..2147483647)"}},
      {"SoaUnknownKey",
       "zones:\n  - name: demo.test\n    soa: { serial: 1, mname: ns1, primary: x }\n",
       {"test.yaml:3:35: zones[0].soa: unknown key 'primary'"}},
      {"SoaSerialOutOfRange",
       "zones:\n  - name: demo.test\n    soa:\n      serial: 4294967296\n",
       {"test.yaml:4:15: zones[0].soa.serial: value 4294967296 out of range (0..4294967295)"}},
      {"SoaBadName",
       "zones:\n  - name: demo.test\n    soa:\n      rname: a..b\n",
       {"test.yaml:4:14: zones[0].soa.rname: invalid domain name 'a..b': Empty label"}},
      {"SoaNotAMap",
       "zones:\n  - name: demo.test\n    soa: 1\n",
       {"test.yaml:3:10: zones[0].soa: expected a map"}},
      {"InvalidIpv4",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, value: 192.0.2.300 }\n",
       {"test.yaml:4:38: zones[0].records[0].value: not a valid IPv4 address '192.0.2.300'"}},
      {"InvalidIpv6InValuesList",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - name: www\n        type: AAAA\n        values:\n"
       "          - 2001:db8::1\n          - 2001:db8::zz\n",
       {"test.yaml:8:13: zones[0].records[0].values[1]: not a valid IPv6 address "
        "'2001:db8::zz'"}},
      {"InvalidMx",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: \"@\", type: MX, value: \"10 mail extra\" }\n",
       {"test.yaml:4:39: zones[0].records[0].value: invalid MX data '10 mail extra': Syntax "
        "error, superfluous text present"}},
      {"MxPreferenceOutOfRange",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: \"@\", type: MX, value: \"65536 mail\" }\n",
       {"test.yaml:4:39: zones[0].records[0].value: invalid MX data '65536 mail': integer "
        "65536 out of range (0..65535)"}},
      {"UnterminatedTxt",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: \"@\", type: TXT, value: '\"v=spf1' }\n",
       {"test.yaml:4:40: zones[0].records[0].value: invalid TXT data '\"v=spf1': unterminated "
        "quoted string"}},
      {"ValueAndValues",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, value: 192.0.2.1, values: [192.0.2.2] }\n",
       {"test.yaml:4:9: zones[0].records[0]: use either 'value' or 'values', not both"}},
      {"NeitherValueNorValues",
       "zones:\n  - name: demo.test\n    records:\n      - { name: www, type: A }\n",
       {"test.yaml:4:9: zones[0].records[0]: missing 'value' or 'values'"}},
      {"EmptyValues",
       "zones:\n  - name: demo.test\n    records:\n      - { name: www, type: A, values: [] }\n",
       {"test.yaml:4:39: zones[0].records[0].values: expected at least one value"}},
      {"ValueIsAList",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, value: [192.0.2.1] }\n",
       {"test.yaml:4:38: zones[0].records[0].value: expected a string"}},
      {"RecordMissingName",
       "zones:\n  - name: demo.test\n    records:\n      - { type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:9: zones[0].records[0]: missing required key 'name'"}},
      {"RecordMissingType",
       "zones:\n  - name: demo.test\n    records:\n      - { name: www, value: 192.0.2.1 }\n",
       {"test.yaml:4:9: zones[0].records[0]: missing required key 'type'"}},
      {"RecordUnknownKey",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, value: 192.0.2.1, class: IN }\n",
       {"test.yaml:4:49: zones[0].records[0]: unknown key 'class'"}},
      {"RecordNameWithoutValue",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - name:\n        type: A\n        value: 192.0.2.1\n",
       {"test.yaml:4:9: zones[0].records[0].name: missing value"}},
      {"ThreadsWithoutValue",
       "server:\n  threads:\n  tcp_max_connections: 5\n",
       {"test.yaml:2:3: server.threads: missing value"}},
      {"RecordNotAMap",
       "zones:\n  - name: demo.test\n    records:\n      - www A 192.0.2.1\n",
       {"test.yaml:4:9: zones[0].records[0]: expected a map"}},
      {"RecordsNotAList",
       "zones:\n  - name: demo.test\n    records: {}\n",
       {"test.yaml:3:14: zones[0].records: expected a list"}},
      {"UnknownType",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: FOO, value: x }\n",
       {"test.yaml:4:28: zones[0].records[0].type: unknown record type 'FOO'"}},
      {"SoaRecord",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: \"@\", type: SOA, value: ns1 hostmaster 1 2 3 4 5 }\n",
       {"test.yaml:4:28: zones[0].records[0].type: use the zone's soa: key instead of an SOA "
        "record"}},
      {"MetaType",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: ANY, value: x }\n",
       {"test.yaml:4:28: zones[0].records[0].type: type ANY cannot appear in zone data"}},
      {"RecordTtlOutOfRange",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, ttl: 4294967296, value: 192.0.2.1 }\n",
       {"test.yaml:4:36: zones[0].records[0].ttl: TTL 4294967296 out of range (0..2147483647)"}},
      {"RecordTtlInvalid",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, ttl: 5x, value: 192.0.2.1 }\n",
       {"test.yaml:4:36: zones[0].records[0].ttl: invalid TTL '5x' (expected seconds or e.g. "
        "300, 5m, 1h, 1d)"}},
      {"RecordTtlDurationOutOfRange",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, ttl: 100000w, value: 192.0.2.1 }\n",
       {"test.yaml:4:36: zones[0].records[0].ttl: TTL 100000w out of range (0..2147483647)"}},
      {"OwnerOutsideZone",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: www.other.test., type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: record owner 'www.other.test.' is outside "
        "zone 'demo.test.'"}},
      {"OwnerSuffixIsNotSubdomain",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: xdemo.test., type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: record owner 'xdemo.test.' is outside zone "
        "'demo.test.'"}},
      {"OwnerBadName",
       "zones:\n  - name: demo.test\n    records:\n"
       "      - { name: a..b, type: A, value: 192.0.2.1 }\n",
       {"test.yaml:4:17: zones[0].records[0].name: invalid domain name 'a..b': Empty label"}},
      {"ZoneFileMissing",
       "zones:\n  - name: demo.test\n    file: missing.zone\n",
       {"test.yaml:3:11: zones[0].file: cannot open zone file '" + kZones +
        "missing.zone': No such file or directory"}},
      {"ZoneFileSyntaxError",
       "zones:\n  - name: demo.test\n    file: syntax_error.zone\n",
       {kZones + "syntax_error.zone:6: zones[0].file: not a valid IPv4 address '192.0.2.300'"}},
      {"ZoneFileSoaAndSoaKey",
       "zones:\n  - name: demo.test\n    file: good.zone\n    soa: { serial: 2 }\n",
       {"test.yaml:4:10: zones[0].soa: the zone file already has an SOA record (" + kZones +
        "good.zone:5); remove one of them"}},
      {"YamlSyntaxError",
       "server:\n  listen: [127.0.0.1:53\n",
       {"test.yaml:3:1: end of sequence flow not found"}},
      {"YamlBadIndentation",
       "server:\n  threads: 2\n bad: 1\n",
       {"test.yaml:3:2: end of map not found"}},
      {"AllErrorsInOnePass",
       "server:\n  threads: 0\n  edns_udp_size: 1\nlog:\n  level: loud\nzones:\n"
       "  - name: demo.test\n    records:\n"
       "      - { name: www, type: A, value: 192.0.2.300 }\n"
       "      - { name: www, type: AAAA, value: 192.0.2.1 }\n",
       {"test.yaml:2:12: server.threads: value 0 out of range (1..256)",
        "test.yaml:3:18: server.edns_udp_size: value 1 out of range (512..4096)",
        "test.yaml:5:10: log.level: invalid log level 'loud' (expected trace, debug, info, "
        "warn, error, critical or off)",
        "test.yaml:9:38: zones[0].records[0].value: not a valid IPv4 address '192.0.2.300'",
        "test.yaml:10:41: zones[0].records[1].value: not a valid IPv6 address '192.0.2.1'"}},
  };
  return kCases;
}

class ConfigErrors : public ::testing::TestWithParam<Case> {};

TEST_P(ConfigErrors, ExactDiagnostics) {
  const Case& c = GetParam();
  EXPECT_EQ(errorsOf(c.yaml), c.errors) << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigErrors, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigErrorsTable, IsLargeEnough) {
  EXPECT_GE(cases().size(), 25u);
}

TEST(ConfigErrorsFormat, WhatJoinsEveryDiagnostic) {
  try {
    loadString("server:\n  threads: 0\nlog:\n  level: x\n", "a.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "a.yaml:2:12: server.threads: value 0 out of range (1..256)\n"
              "a.yaml:4:10: log.level: invalid log level 'x' (expected trace, debug, info, warn, "
              "error, critical or off)");
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].where.file, "a.yaml");
    EXPECT_EQ(e.diagnostics()[0].where.line, 2);
    EXPECT_EQ(e.diagnostics()[0].where.column, 12);
    EXPECT_EQ(e.diagnostics()[0].key, "server.threads");
  }
}

}  // namespace
}  // namespace understudy::config
