// Differential test of the zone-file reader against ldns, which it replaced: for a corpus of
// master files covering the RFC 1035 §5 syntax we accept (and the benchmark zone's shape), both
// must produce the same records: owner, type, TTL, RDATA bytes and the line each record starts
// on. ldns is driven the way importZoneFile used to drive it, record by record.
//
// Also here, DISABLED_ by default: a timing of importZoneFile on a big zone.
//   unit_zone --gtest_also_run_disabled_tests --gtest_filter='*ImportBigZone*'
// (UNDERSTUDY_BENCH_ZONE=path, default /tmp/zf/bench.zone: `python3 bench/dns/gen.py /tmp/zf
// 1000000`).

// ldns/common.h #defines bool unless <stdbool.h> came first (see src/zone/ldns_support.h).
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "understudy/zone/record.h"

namespace understudy::zone {
namespace {

using namespace std::string_literals;

const std::string kOrigin = "\4demo\4test\0"s;
const std::string kSourceDir = UNDERSTUDY_TEST_DATA "/../..";

struct Rr {
  std::string owner;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata;
  int line = 0;
};

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Rr& rr) {
  return os << "{owner " << hex(rr.owner) << " type " << rr.type << " ttl " << rr.ttl << " rdata "
            << hex(rr.rdata) << " line " << rr.line << "}";
}

bool operator==(const Rr& a, const Rr& b) {
  return a.owner == b.owner && a.type == b.type && a.ttl == b.ttl && a.rdata == b.rdata &&
         a.line == b.line;
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = ::testing::TempDir() + "understudy-zone-diff-XXXXXX";
    int fd = ::mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- ldns, as importZoneFile used it (minus the checks that are ours, not ldns's)

struct FileCloser {
  void operator()(FILE* fp) const { std::fclose(fp); }
};

// ldns reports the line a record ended on; the first line that is not blank or a comment after
// the previous record is where it starts.
std::vector<bool> contentLines(const std::string& text) {
  std::vector<bool> lines{false};
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    size_t first = line.find_first_not_of(" \t\r");
    lines.push_back(first != std::string_view::npos && line[first] != ';');
    if (end == text.size()) break;
    pos = end + 1;
  }
  return lines;
}

std::vector<Rr> ldnsRead(const std::string& path, const std::string& origin, uint32_t default_ttl) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::vector<bool> content = contentLines(buffer.str());
  std::unique_ptr<FILE, FileCloser> fp(std::fopen(path.c_str(), "r"));
  EXPECT_TRUE(fp);
  if (!fp) return {};
  ldns_rdf* current_origin =
      ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin.size(), origin.data());
  ldns_rdf* previous_owner = ldns_rdf_clone(current_origin);
  std::vector<Rr> out;
  uint32_t ttl = default_ttl;
  int line_nr = 0;
  int previous_end = 0;
  while (!std::feof(fp.get())) {
    int line = previous_end + 1;
    for (size_t i = static_cast<size_t>(previous_end) + 1; i < content.size(); ++i) {
      if (content[i]) {
        line = static_cast<int>(i);
        break;
      }
    }
    ldns_rr* rr = nullptr;
    ldns_status status =
        ldns_rr_new_frm_fp_l(&rr, fp.get(), &ttl, &current_origin, &previous_owner, &line_nr);
    previous_end = std::max(previous_end, line_nr);
    if (status == LDNS_STATUS_SYNTAX_EMPTY || status == LDNS_STATUS_SYNTAX_TTL ||
        status == LDNS_STATUS_SYNTAX_ORIGIN) {
      continue;
    }
    EXPECT_EQ(status, LDNS_STATUS_OK)
        << path << ":" << line << ": ldns says " << ldns_get_errorstr_by_id(status);
    if (status != LDNS_STATUS_OK) break;
    Rr r;
    r.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(ldns_rr_owner(rr))),
                   ldns_rdf_size(ldns_rr_owner(rr)));
    r.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
    r.ttl = ldns_rr_ttl(rr);
    ldns_buffer* wire = ldns_buffer_new(512);
    for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i)
      ldns_rdf2buffer_wire(wire, ldns_rr_rdf(rr, i));
    r.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(wire)),
                   ldns_buffer_position(wire));
    ldns_buffer_free(wire);
    r.line = line;
    ldns_rr_free(rr);
    out.push_back(std::move(r));
  }
  ldns_rdf_deep_free(current_origin);
  ldns_rdf_deep_free(previous_owner);
  return out;
}

std::vector<Rr> ourRead(const std::string& path, const std::string& origin, uint32_t default_ttl) {
  std::vector<Rr> out;
  try {
    for (Record& r : importZoneFile(path, origin, default_ttl)) {
      EXPECT_EQ(r.where.file, path);
      out.push_back(Rr{std::move(r.owner), r.type, r.ttl, std::move(r.rdata), r.where.line});
    }
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.what();
  }
  return out;
}

void expectSameAsLdns(const std::string& path, const std::string& origin = kOrigin,
                      uint32_t default_ttl = 3600) {
  std::vector<Rr> theirs = ldnsRead(path, origin, default_ttl);
  std::vector<Rr> ours = ourRead(path, origin, default_ttl);
  EXPECT_FALSE(ours.empty());
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i], theirs[i]) << "record " << i;
  }
}

struct Case {
  const char* name;
  std::string text;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// Every zone here is valid for both readers. What we deliberately do differently from ldns (and
// the errors) is in zone_file_test.cc.
const std::vector<Case>& corpus() {
  static const std::vector<Case> cases = {
      {"DirectivesAndBlankOwners",
       "; a comment before anything\n"
       "$ORIGIN demo.test.\n"
       "$TTL 300\n"
       "\n"
       "@       IN SOA ns1 hostmaster ( 2026112101 ; serial\n"
       "                3600     ; refresh\n"
       "                600 1209600 300 )\n"
       "        IN NS   ns1\n"
       "        IN NS   ns2.Demo.Test.\n"
       "ns1     IN A    192.0.2.53\n"
       "ns2        A    192.0.2.54\n"
       "www     60 IN A 192.0.2.1\n"
       "        IN AAAA 2001:db8::1\n"
       "\n"
       "   ; an indented comment\n"
       "Mail    IN MX   10 mail\n"
       "        IN MX   20 @\n"
       "$TTL 120\n"
       "        IN TXT  \"blank owner after $TTL\"\n"},
      {"BlankOwnerAtStart",
       "  IN A 192.0.2.1\n\t300 A 192.0.2.2\nwww A 192.0.2.3\n  A 192.0.2.4\n"},
      {"TtlUnits",
       "$TTL 1h30m\n"
       "a A 192.0.2.1\n"
       "b 2d IN A 192.0.2.2\n"
       "c 1W A 192.0.2.3\n"
       "d 90s A 192.0.2.4\n"
       "e 1h30 A 192.0.2.5\n"
       "f 1w2d3h4m5s A 192.0.2.6\n"
       "g 0 A 192.0.2.7\n"
       "h 2147483647 A 192.0.2.8\n"
       "$TTL 45M\n"
       "i A 192.0.2.9\n"},
      {"TtlAndClassOptional",
       "a A 192.0.2.1\n"
       "b 300 A 192.0.2.2\n"
       "c IN A 192.0.2.3\n"
       "d 300 IN A 192.0.2.4\n"
       "e CLASS1 A 192.0.2.5\n"},
      {"CaseIsKept",
       "www in a 192.0.2.1\n"
       "WWW IN Aaaa ::1\n"
       "Mixed.Case IN CNAME Target.Example.\n"
       "x IN mx 10 MAIL.Demo.TEST.\n"
       "y Ns NS1.Other.\n"
       "z in ptr Host\n"},
      {"Names",
       "a\\.b IN A 192.0.2.1\n"
       "\\065bc IN A 192.0.2.2\n"
       "x\\032y IN A 192.0.2.3\n"
       "back\\\\slash IN A 192.0.2.4\n"
       "dot\\. IN A 192.0.2.5\n"
       "sub.sub2 IN A 192.0.2.6\n"
       "absolute.other.test. IN A 192.0.2.7\n"
       "_dmarc IN TXT \"v=DMARC1\"\n"
       "* IN A 192.0.2.8\n"
       "*.wild IN A 192.0.2.9\n"
       "xn--bcher-kva IN A 192.0.2.10\n"
       "c IN CNAME a\\.b.example.\n"
       "d IN NS \\.dot.example.\n"
       "e IN CNAME \\255\\000x\n"
       "f IN CNAME .\n"
       "g IN A 192.0.2.11\n"
       "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc IN A 192.0.2.12\n"},
      {"OriginSwitch",
       "www A 192.0.2.1\n"
       "$ORIGIN sub.demo.test.\n"
       "  A 192.0.2.2\n"
       "host A 192.0.2.3\n"
       "@ MX 10 host\n"
       "x CNAME @\n"
       "y CNAME host.demo.test.\n"
       "$ORIGIN Other.Example.\n"
       "z A 192.0.2.4\n"
       "$ORIGIN .\n"
       "top. A 192.0.2.5\n"
       "$ORIGIN demo.test.\n"
       "back A 192.0.2.6\n"},
      {"Txt",
       "a TXT \"v=spf1 -all\" \"second\"\n"
       "b TXT \"with \\\"quotes\\\" inside\"\n"
       "c TXT \"semi;colon (paren) 'single'\"\n"
       "d TXT \"esc \\065\\066 \\\\ back\"\n"
       "e TXT unquoted words\n"
       "f TXT \"\"\n"
       "g TXT ( \"one\"\n"
       "        \"two\" ; a comment between strings\n"
       "        \"three\" )\n"
       "h TXT a\\ b\n"
       "i TXT \"tab\there\"\n"
       "j TXT \"" +
           std::string(255, 'x') +
           "\"\n"
           "k TXT \"\\\\\"\n"
           "l TXT \"ü utf-8\"\n"
           "m TXT \"a\" b \"c d\"\n"},
      {"SoaWithUnits",
       "@ IN SOA ns1.demo.test. hostmaster.demo.test. ( 1 1h 10m 2w 5m )\n"
       "ns1 A 192.0.2.1\n"},
      {"SoaOneLine", "@ 3600 IN SOA ns1 host\\.master 4294967295 3600 600 1209600 300\n"},
      {"SoaAtSign", "@ IN SOA @ @ 1 2 3 4 5\n"},
      {"Srv",
       "_sip._tcp IN SRV 10 60 5060 sip\n"
       "_x._udp SRV 0 0 0 .\n"
       "_y._tcp SRV 65535 65535 65535 target.Example.\n"},
      {"Ptr",
       "$ORIGIN 2.0.192.in-addr.arpa.\n"
       "1 IN PTR host.demo.test.\n"
       "2 PTR host2\n"},
      {"Aaaa",
       "a AAAA ::\n"
       "b AAAA ::1\n"
       "c AAAA 2001:DB8:0:0:0:0:0:1\n"
       "d AAAA ::ffff:192.0.2.1\n"
       "e AAAA fe80::1:2:3:4\n"
       "f AAAA 2001:db8:1:2:3:4:5:6\n"},
      {"A", "a A 0.0.0.0\nb A 255.255.255.255\nc A 10.0.0.0\n"},
      {"TypeNnn",
       "www IN TYPE1 192.0.2.9\n"
       "www IN TYPE16 \"x\"\n"
       "www IN type28 ::2\n"
       "www IN TYPE2 ns1\n"},
      {"Rfc3597",
       "www IN A \\# 4 c0000201\n"
       "www IN TYPE65000 \\# 3 abcdef\n"
       "www IN TYPE65001 \\# 0\n"
       "www IN TXT \\# 4 03616263\n"
       "www IN TYPE65002 \\# 4 ( de ad\n"
       "    be ef )\n"
       "www IN MX \\# 4 000a0000\n"},
      {"OtherTypesThroughLdns",
       "@ CAA 0 issue \"letsencrypt.org\"\n"
       "@ CAA 128 tbs \"Unknown\"\n"
       "@ DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
       "@ SSHFP 2 1 123456789abcdef67890123456789abcdef67890\n"
       "_443._tcp TLSA 3 1 1 ( 0C72AC70B745AC19998811B131D662C9\n"
       "                       AC69DBDBE7CB23E5B514B56664C5D3D6 )\n"
       "@ NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n"
       "@ HINFO \"PC\" \"Linux\"\n"
       "d DNAME target\n"
       "@ SPF \"v=spf1 -all\"\n"
       "@ RP admin txt\n"
       "@ DNSKEY 257 3 8 ( AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjF\n"
       "  FVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoX )\n"
       "@ LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m\n"},
      {"CrLf", "$TTL 300\r\nwww IN A 192.0.2.1\r\n  IN TXT \"x\"\r\n\r\nmail MX 10 mail\r\n"},
      {"Tabs", "www\t300\tIN\tA\t192.0.2.1\n\tIN\tAAAA\t::1\n"},
      {"NoFinalNewline", "www A 192.0.2.1\nlast A 192.0.2.2"},
      {"NoFinalNewlineAfterComment", "www A 192.0.2.1 ; the end"},
      {"CommentsAndParentheses",
       "www IN ( A\n"
       "   192.0.2.1 ) ; trailing\n"
       "mx ( IN\n"
       "   ; a whole comment line inside parentheses\n"
       "   MX 10\n"
       "\n"
       "   mail )\n"
       "after A 192.0.2.2\n"},
      {"ManyRecordsOneName",
       "multi A 192.0.2.1\n"
       "multi A 192.0.2.2\n"
       "multi.demo.test. A 192.0.2.3\n"
       "MULTI A 192.0.2.4\n"
       "$ORIGIN sub.demo.test.\n"
       "multi A 192.0.2.5\n"},
  };
  return cases;
}

class ZoneFileVsLdns : public ::testing::TestWithParam<Case> {};

TEST_P(ZoneFileVsLdns, SameRecords) {
  TempFile file(GetParam().text);
  expectSameAsLdns(file.path());
}

INSTANTIATE_TEST_SUITE_P(Corpus, ZoneFileVsLdns, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

TEST(ZoneFileVsLdns, TestDataZones) {
  for (const char* file : {"good.zone", "no_soa.zone", "no_final_newline.zone", "outside.zone"}) {
    SCOPED_TRACE(file);
    expectSameAsLdns(UNDERSTUDY_TEST_DATA "/zones/"s + file);
  }
  SCOPED_TRACE("system/diff.zone");
  expectSameAsLdns(UNDERSTUDY_TEST_DATA "/system/diff.zone", "\4diff\4test\0"s);
}

TEST(ZoneFileVsLdns, BenchmarkZone) {
  const std::string dir = ::testing::TempDir() + "understudy-zone-diff-bench";
  const std::string command = "python3 " + kSourceDir + "/bench/dns/gen.py " + dir + " 1000";
  if (std::system(("command -v python3 >/dev/null && " + command).c_str()) != 0) {
    GTEST_SKIP() << "cannot run " << command;
  }
  expectSameAsLdns(dir + "/bench.zone", "\5bench\4test\0"s);
  std::remove((dir + "/bench.zone").c_str());
  ::rmdir(dir.c_str());
}

// Not a test: how long importZoneFile takes on a big zone, and the peak RSS after it.
TEST(ZoneFileTiming, DISABLED_ImportBigZone) {
  const char* env = std::getenv("UNDERSTUDY_BENCH_ZONE");
  const std::string path = env ? env : "/tmp/zf/bench.zone";
  if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " not found";
  auto cpu = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
  };
  const double cpu_start = cpu();
  auto start = std::chrono::steady_clock::now();
  std::vector<Record> records = importZoneFile(path, "\5bench\4test\0"s, 3600);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = cpu() - cpu_start;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("importZoneFile(%s): %zu records in %.3f s (CPU %.3f s), peak RSS %ld MB\n",
              path.c_str(), records.size(), seconds, cpu_seconds, usage.ru_maxrss / 1024);
}

}  // namespace
}  // namespace understudy::zone
