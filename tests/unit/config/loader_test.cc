// Configurations that must load, and what they load into: defaults, durations, owner names,
// multi-value records, zone files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "understudy/config/config.h"
#include "understudy/zone/record.h"

namespace understudy::config {
namespace {

using namespace std::string_literals;

const std::string kDemoOrigin = "\4demo\4test\0"s;

Config load(const std::string& yaml) {
  try {
    return loadString(yaml, "test.yaml", UNDERSTUDY_TEST_DATA);
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.what();
    return {};
  }
}

std::string rdata(uint16_t type, const std::string& text, const std::string& origin = kDemoOrigin) {
  std::string error;
  auto wire = zone::parseRdata(type, text, origin, &error);
  EXPECT_TRUE(wire) << error;
  return wire.value_or("");
}

std::vector<const zone::Record*> find(const zone::ZoneSource& z, const std::string& owner,
                                      uint16_t type) {
  std::vector<const zone::Record*> out;
  for (const auto& r : z.records) {
    if (r.owner == owner && r.type == type) out.push_back(&r);
  }
  return out;
}

TEST(LoadConfig, ShippedDemoYamlLoadsWithItsPool) {
  Config config = loadFile(UNDERSTUDY_TEST_DATA "/../../config/demo.yaml");
  ASSERT_EQ(config.zones.size(), 1u);
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_EQ(config.pools[0].endpoints.size(), 2u);
  EXPECT_EQ(config.pools[0].endpoints[1].check, "");  // check: none
  ASSERT_EQ(config.pool_records.size(), 1u);
  EXPECT_EQ(config.pool_records[0].failover_ttl, 10u);
}

TEST(LoadConfig, ZonesOnlyYaml) {
  const std::string path = UNDERSTUDY_TEST_DATA "/configs/zones_only.yaml";
  Config config = loadFile(path);
  EXPECT_EQ(config.path, path);
  ASSERT_EQ(config.server.listen.size(), 2u);
  EXPECT_EQ(config.server.listen[0].str(), "127.0.0.1:5353");
  EXPECT_EQ(config.server.listen[1].address, "::1");
  EXPECT_EQ(config.server.listen[1].str(), "[::1]:5353");
  EXPECT_EQ(config.server.listen[1].where.line, 6);
  EXPECT_EQ(config.server.listen[1].where.column, 7);
  EXPECT_EQ(config.server.threads, 2u);
  EXPECT_EQ(config.server.tcp_idle_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config.server.tcp_max_connections, 256u);
  EXPECT_EQ(config.server.edns_udp_size, 1232);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_TRUE(config.warnings.empty());

  ASSERT_EQ(config.zones.size(), 1u);
  const zone::ZoneSource& z = config.zones[0];
  EXPECT_EQ(z.origin, kDemoOrigin);
  EXPECT_EQ(z.key, "zones[0]");
  EXPECT_EQ(z.where.file, path);
  EXPECT_EQ(z.where.line, 16);
  EXPECT_EQ(z.where.column, 5);
  // The SOA plus 15 RDATAs (the NS entry has two values).
  EXPECT_EQ(z.records.size(), 16u);

  auto soa = find(z, kDemoOrigin, 6);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(soa[0]->ttl, 3600u);
  EXPECT_EQ(soa[0]->rdata, rdata(6, "ns1 hostmaster 2026112101 3600 600 1209600 300"));
  EXPECT_EQ(soa[0]->key, "zones[0].soa");

  auto ns = find(z, kDemoOrigin, 2);
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_EQ(ns[0]->rdata, "\3ns1"s + kDemoOrigin);
  EXPECT_EQ(ns[1]->rdata, "\3ns2"s + kDemoOrigin);
  EXPECT_EQ(ns[1]->key, "zones[0].records[0]");

  auto www = find(z, "\3www"s + kDemoOrigin, 1);
  ASSERT_EQ(www.size(), 1u);
  EXPECT_EQ(www[0]->ttl, 300u);
  EXPECT_EQ(www[0]->rdata, "\xc0\x00\x02\x01"s);
  EXPECT_EQ(www[0]->key, "zones[0].records[5]");
  EXPECT_EQ(www[0]->where.line, 32);
  EXPECT_EQ(www[0]->where.column, 48);

  EXPECT_EQ(find(z, "\1*\4wild"s + kDemoOrigin, 1).size(), 1u);
  EXPECT_EQ(find(z, "\4_sip\4_tcp"s + kDemoOrigin, 33).size(), 1u);
  auto mx = find(z, kDemoOrigin, 15);
  ASSERT_EQ(mx.size(), 1u);
  EXPECT_EQ(mx[0]->rdata, "\x00\x0a\4mail"s + kDemoOrigin);
  EXPECT_EQ(mx[0]->ttl, 3600u);
}

TEST(LoadConfig, EmptyConfigHasDefaults) {
  Config config = load("");
  EXPECT_EQ(config.path, "test.yaml");
  ASSERT_EQ(config.server.listen.size(), 2u);
  EXPECT_EQ(config.server.listen[0].str(), "127.0.0.1:53");
  EXPECT_EQ(config.server.listen[1].str(), "[::1]:53");
  EXPECT_EQ(config.server.threads, 0u);
  EXPECT_EQ(config.server.tcp_idle_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config.server.tcp_max_connections, 1024u);
  EXPECT_EQ(config.server.edns_udp_size, 1232);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_TRUE(config.zones.empty());

  Config comment_only = load("# nothing yet\n");
  EXPECT_EQ(comment_only.server.listen.size(), 2u);
  Config server_only = load("server:\n  threads: auto\n");
  EXPECT_EQ(server_only.server.listen.size(), 2u);
  EXPECT_EQ(server_only.server.threads, 0u);
}

TEST(LoadConfig, EmptySectionsMeanNone) {
  Config config = load("server:\nlog:\nzones:\n  - name: demo.test\n    soa:\n    records:\n");
  EXPECT_EQ(config.server.listen.size(), 2u);
  ASSERT_EQ(config.zones.size(), 1u);
  ASSERT_EQ(config.zones[0].records.size(), 1u);
  EXPECT_EQ(config.zones[0].records[0].type, 6);
}

TEST(LoadConfig, ListenAddresses) {
  Config config = load(R"(
server:
  listen:
    - 0.0.0.0:0
    - "[::]:5353"
    - "[::1]"
    - 127.0.0.2
    - "[2001:DB8::1]"
    - 192.0.2.1:65535
)");
  std::vector<std::string> got;
  for (const auto& l : config.server.listen) got.push_back(l.str());
  EXPECT_EQ(got, (std::vector<std::string>{"0.0.0.0:0", "[::]:5353", "[::1]:53", "127.0.0.2:53",
                                           "[2001:db8::1]:53", "192.0.2.1:65535"}));
  EXPECT_EQ(config.server.listen[0].port, 0);
  EXPECT_EQ(config.server.listen[2].where.line, 6);
}

// The one parser of host:port settings: the default port is the caller's (53 for DNS, 8053 for
// the control endpoint), and an IPv6 address needs its brackets.
TEST(ParseListenAddress, DefaultPortAndBrackets) {
  std::string reason;
  auto a = parseListenAddress("127.0.0.1", kDefaultControlPort, &reason);
  ASSERT_TRUE(a) << reason;
  EXPECT_EQ(a->str(), "127.0.0.1:8053");
  a = parseListenAddress("[::1]", kDefaultControlPort, &reason);
  ASSERT_TRUE(a) << reason;
  EXPECT_EQ(a->str(), "[::1]:8053");
  a = parseListenAddress("[::1]:9000", kDefaultControlPort, &reason);
  ASSERT_TRUE(a) << reason;
  EXPECT_EQ(a->str(), "[::1]:9000");
  a = parseListenAddress("192.0.2.1", kDefaultDnsPort, &reason);
  ASSERT_TRUE(a) << reason;
  EXPECT_EQ(a->str(), "192.0.2.1:53");
  for (const char* bare : {"::1", "::", "::1:5353", "2001:db8::1", "fe80::1:53"}) {
    EXPECT_FALSE(parseListenAddress(bare, kDefaultDnsPort, &reason)) << bare;
    EXPECT_NE(reason.find("an IPv6 address must be in brackets"), std::string::npos) << reason;
  }
}

TEST(LoadConfig, ControlListenWithoutAPortUsesTheDocumentedDefault) {
  Config config = load("control: { listen: 127.0.0.2 }\n");
  EXPECT_TRUE(config.control.enabled);
  EXPECT_EQ(config.control.address, "127.0.0.2");
  EXPECT_EQ(config.control.port, 8053);  // was 53, the DNS default
  config = load("control: { listen: \"[::1]\" }\n");
  EXPECT_EQ(config.control.address, "::1");
  EXPECT_EQ(config.control.port, 8053);
  config = load("control: { listen: \"[::1]:0\" }\n");
  EXPECT_EQ(config.control.port, 0);
  config = load("server: { listen: [127.0.0.2] }\n");
  EXPECT_EQ(config.server.listen[0].port, 53);
}

TEST(LoadConfig, Durations) {
  struct Case {
    std::string text;
    std::chrono::milliseconds expected;
  };
  const std::vector<Case> cases = {
      {"100ms", std::chrono::milliseconds(100)}, {"500ms", std::chrono::milliseconds(500)},
      {"30", std::chrono::seconds(30)},          {"10s", std::chrono::seconds(10)},
      {"2m", std::chrono::minutes(2)},           {"1h", std::chrono::hours(1)},
      {"1m30s", std::chrono::seconds(90)},
  };
  for (const Case& c : cases) {
    Config config = load("server:\n  tcp_idle_timeout: " + c.text + "\n");
    EXPECT_EQ(config.server.tcp_idle_timeout, c.expected) << c.text;
  }
}

TEST(LoadConfig, ServerLimits) {
  Config config = load(R"(
server:
  threads: 256
  tcp_max_connections: 1000000
  edns_udp_size: 4096
log:
  level: debug
)");
  EXPECT_EQ(config.server.threads, 256u);
  EXPECT_EQ(config.server.tcp_max_connections, 1000000u);
  EXPECT_EQ(config.server.edns_udp_size, 4096);
  EXPECT_EQ(config.log.level, "debug");
}

TEST(LoadConfig, IdentityAndVersion) {
  Config none = load("server:\n  threads: 1\n");
  EXPECT_EQ(none.server.nsid, "");
  EXPECT_EQ(none.server.version, "");
  Config text = load("server:\n  nsid: ns-ams-1\n  version: \"understudy 1.2\"\n");
  EXPECT_EQ(text.server.nsid, "ns-ams-1");
  EXPECT_EQ(text.server.version, "understudy 1.2");
  // `hostname`: this machine's host name, read when the config is loaded.
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(load("server:\n  nsid: hostname\n").server.nsid, host);
  // Only for the NSID: a version of "hostname" is that word.
  EXPECT_EQ(load("server:\n  version: hostname\n").server.version, "hostname");
  // 128 octets is the most; an empty value means off (as in Knot).
  EXPECT_EQ(load("server:\n  nsid: " + std::string(128, 'n') + "\n").server.nsid.size(), 128u);
  EXPECT_EQ(load("server:\n  nsid: \"\"\n").server.nsid, "");
  // Precomputed for the answer engine: the EDNS option and the TXT RDATA.
  zone::ServingOptions options = servingOptions(text.server);
  EXPECT_EQ(options.nsid_option, std::string("\0\3\0\x08ns-ams-1", 12));
  EXPECT_EQ(options.identity_txt, "\x08ns-ams-1");
  EXPECT_EQ(options.version_txt, "\x0eunderstudy 1.2");
  zone::ServingOptions off = servingOptions(none.server);
  EXPECT_EQ(off.nsid_option, "");
  EXPECT_EQ(off.identity_txt, "");
  EXPECT_EQ(off.version_txt, "");
}

TEST(LoadConfig, TtlsAndDefaults) {
  Config config = load(R"(
zones:
  - name: demo.test.
    default_ttl: 1h
    records:
      - { name: a, type: A, value: 192.0.2.1 }
      - { name: b, type: A, ttl: 5m, value: 192.0.2.2 }
      - { name: c, type: A, ttl: 1h30m, value: 192.0.2.3 }
      - { name: d, type: A, ttl: 1d, value: 192.0.2.4 }
      - { name: e, type: A, ttl: 0, value: 192.0.2.5 }
      - { name: f, type: A, ttl: 2147483647, value: 192.0.2.6 }
      - { name: g, type: A, ttl: 1w, value: 192.0.2.7 }
)");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& records = config.zones[0].records;
  ASSERT_EQ(records.size(), 8u);
  std::vector<uint32_t> ttls;
  for (const auto& r : records) ttls.push_back(r.ttl);
  EXPECT_EQ(ttls, (std::vector<uint32_t>{3600, 3600, 300, 5400, 86400, 0, 2147483647, 604800}));
}

TEST(LoadConfig, SynthesizedSoaDefaults) {
  Config config = load(R"(
zones:
  - name: demo.test
    default_ttl: 120
)");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& z = config.zones[0];
  ASSERT_EQ(z.records.size(), 1u);
  EXPECT_EQ(z.records[0].owner, kDemoOrigin);
  EXPECT_EQ(z.records[0].type, 6);
  EXPECT_EQ(z.records[0].ttl, 120u);
  EXPECT_EQ(z.records[0].rdata, rdata(6, "ns1 hostmaster 1 3600 600 1209600 300"));
  EXPECT_EQ(z.records[0].where.line, 3);
  EXPECT_EQ(z.records[0].where.column, 5);
}

TEST(LoadConfig, SoaFields) {
  Config config = load(R"(
zones:
  - name: demo.test
    soa:
      mname: ns.example.net.
      rname: dns-admin
      serial: 4294967295
      refresh: 1h
      retry: 10m
      expire: 2w
      minimum: 60
      ttl: 30
)");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& soa = config.zones[0].records.at(0);
  EXPECT_EQ(soa.type, 6);
  EXPECT_EQ(soa.ttl, 30u);
  EXPECT_EQ(soa.rdata, rdata(6, "ns.example.net. dns-admin 4294967295 3600 600 1209600 60"));
  EXPECT_EQ(soa.where.line, 5);
  EXPECT_EQ(soa.where.column, 7);
}

TEST(LoadConfig, OwnerNames) {
  Config config = load(R"(
zones:
  - name: Demo.Test
    records:
      - { name: "@", type: A, value: 192.0.2.1 }
      - { name: www, type: A, value: 192.0.2.2 }
      - { name: Www.Demo.Test., type: A, value: 192.0.2.3 }
      - { name: a.b, type: A, value: 192.0.2.4 }
      - { name: "*", type: A, value: 192.0.2.5 }
      - { name: demo.test., type: A, value: 192.0.2.6 }
)");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& z = config.zones[0];
  // The zone is looked up lowercased; owners keep the case they were written in.
  EXPECT_EQ(z.origin, kDemoOrigin);
  const std::string written = "\4Demo\4Test\0"s;
  std::vector<std::string> owners;
  for (size_t i = 1; i < z.records.size(); ++i) owners.push_back(z.records[i].owner);
  EXPECT_EQ(owners, (std::vector<std::string>{written, "\3www"s + written, "\3Www"s + written,
                                              "\1a\1b"s + written, "\1*"s + written, kDemoOrigin}));
}

TEST(LoadConfig, OwnerNamesWithEscapes) {
  // RFC 1035 §5.1 escapes, as in a zone file: an escaped space or dot is part of the label (the
  // config refused "a\ b" before names had one parser), "\DDD" is any octet.
  Config config = load(R"(
zones:
  - name: demo.test
    records:
      - { name: 'a\ b', type: A, value: 192.0.2.1 }
      - { name: 'a\.b', type: A, value: 192.0.2.2 }
      - { name: '\065\000', type: A, value: 192.0.2.3 }
      - { name: 'a\\.demo.test.', type: A, value: 192.0.2.4 }
)");
  const auto& z = config.zones.at(0);
  std::vector<std::string> owners;
  for (size_t i = 1; i < z.records.size(); ++i) owners.push_back(z.records[i].owner);
  EXPECT_EQ(owners, (std::vector<std::string>{"\3a b"s + kDemoOrigin, "\3a.b"s + kDemoOrigin,
                                              "\2A\0"s + kDemoOrigin, "\2a\\"s + kDemoOrigin}));
}

TEST(LoadConfig, RootZone) {
  Config config = load(R"(
zones:
  - name: .
    records:
      - { name: com, type: NS, value: a.gtld-servers.net. }
)");
  ASSERT_EQ(config.zones.size(), 1u);
  EXPECT_EQ(config.zones[0].origin, "\0"s);
  EXPECT_EQ(config.zones[0].records.at(1).owner, "\3com\0"s);
}

TEST(LoadConfig, TxtAndValuesLists) {
  Config config = load(R"(
zones:
  - name: demo.test
    records:
      - { name: "@", type: TXT, value: '"v=spf1 -all" "second string"' }
      - name: multi
        type: A
        ttl: 60
        values:
          - 192.0.2.1
          - 192.0.2.2
          - 192.0.2.3
      - { name: mx, type: MX, values: ["10 mail", "20 mail.example.net."] }
      - { name: gen, type: TYPE65534, value: '\# 2 abcd' }
      - { name: svc, type: HTTPS, value: '1 . alpn=h2' }
)");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& z = config.zones[0];
  auto txt = find(z, kDemoOrigin, 16);
  ASSERT_EQ(txt.size(), 1u);
  EXPECT_EQ(txt[0]->rdata, "\x0bv=spf1 -all\x0dsecond string"s);

  auto multi = find(z, "\5multi"s + kDemoOrigin, 1);
  ASSERT_EQ(multi.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(multi[i]->ttl, 60u);
    EXPECT_EQ(multi[i]->key, "zones[0].records[1]");
    EXPECT_EQ(multi[i]->where.line, 10 + static_cast<int>(i));
    EXPECT_EQ(multi[i]->where.column, 13);
    EXPECT_EQ(multi[i]->rdata, std::string("\xc0\x00\x02", 3) + static_cast<char>(i + 1));
  }
  auto mx = find(z, "\2mx"s + kDemoOrigin, 15);
  ASSERT_EQ(mx.size(), 2u);
  EXPECT_EQ(mx[1]->rdata, "\x00\x14\4mail\7example\3net\0"s);
  auto gen = find(z, "\3gen"s + kDemoOrigin, 65534);
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0]->rdata, "\xab\xcd"s);
  EXPECT_EQ(find(z, "\3svc"s + kDemoOrigin, 65).size(), 1u);
}

TEST(LoadConfig, ZoneFileRelativeToConfigFile) {
  const std::string path = UNDERSTUDY_TEST_DATA "/configs/with_file.yaml";
  Config config = loadFile(path);
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& z = config.zones[0];
  // 13 records from the file (its own SOA, so none is synthesized) and one from YAML.
  ASSERT_EQ(z.records.size(), 14u);
  EXPECT_EQ(z.records[0].type, 6);
  EXPECT_EQ(z.records[0].where.file, UNDERSTUDY_TEST_DATA "/configs/../zones/good.zone");
  EXPECT_EQ(z.records[0].where.line, 5);
  EXPECT_EQ(z.records[0].ttl, 300u);
  EXPECT_EQ(find(z, kDemoOrigin, 6).size(), 1u);
  EXPECT_EQ(z.records[13].owner, "\5extra"s + kDemoOrigin);
  EXPECT_EQ(z.records[13].where.file, path);
}

TEST(LoadConfig, ZoneFileWithoutSoaTakesTheYamlOne) {
  Config config = loadFile(UNDERSTUDY_TEST_DATA "/configs/no_soa_file.yaml");
  ASSERT_EQ(config.zones.size(), 1u);
  const auto& z = config.zones[0];
  ASSERT_EQ(z.records.size(), 3u);
  EXPECT_EQ(z.records[0].type, 6);
  EXPECT_EQ(z.records[0].ttl, 600u);
  EXPECT_EQ(z.records[0].rdata, rdata(6, "ns1 hostmaster 7 3600 600 1209600 300"));
  // The zone's default_ttl is the file's default too.
  EXPECT_EQ(z.records[1].ttl, 600u);
}

TEST(LoadConfig, MissingConfigFile) {
  try {
    loadFile(UNDERSTUDY_TEST_DATA "/configs/missing.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(), UNDERSTUDY_TEST_DATA
              "/configs/missing.yaml: cannot open config file '" UNDERSTUDY_TEST_DATA
              "/configs/missing.yaml': No such file or directory");
  }
}

TEST(ListenAddress, Str) {
  EXPECT_EQ((ListenAddress{"127.0.0.1", 5353, {}}).str(), "127.0.0.1:5353");
  EXPECT_EQ((ListenAddress{"::1", 5353, {}}).str(), "[::1]:5353");
  EXPECT_EQ((ListenAddress{"::", 0, {}}).str(), "[::]:0");
}

}  // namespace
}  // namespace understudy::config
