// `understudy keygen` against independent tools: the DS it prints is the one ldns-key2ds
// (ldnsutils) and dnssec-dsfromkey (bind9-utils) compute from the .key file it wrote, and BIND's
// dnssec-signzone signs a zone with the key pair, which dnssec-verify then accepts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace understudy::systest {
namespace {

using Strings = std::vector<std::string>;

Strings fields(const std::string& line) {
  std::istringstream in(line);
  Strings out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

std::string lowerText(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The fields of a DS RR after its type: tag, algorithm, digest type, digest (lowercase).
Strings dsRdata(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    Strings f = fields(line);
    auto it = std::find(f.begin(), f.end(), "DS");
    if (it == f.end() || f.end() - it != 5) continue;
    return {it[1], it[2], it[3], lowerText(it[4])};
  }
  return {};
}

void requireTool(const std::string& tool, const std::string& package) {
  CommandResult which = runCommand({"sh", "-c", "command -v " + tool});
  ASSERT_EQ(which.exit_code, 0) << tool << " is missing: install Debian's `" << package
                                << "` package (tests/deps.sh does)";
}

struct Generated {
  std::string key_path;
  std::string private_path;
  std::string dnskey;
  Strings ds;  // as dsRdata
};

Generated keygen(const TempDir& dir, const std::string& algorithm) {
  CommandResult r = runCommand(
      {understudyBinary(), "keygen", "example.com", "--algorithm", algorithm, "--dir", dir.path()});
  Generated g;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    Strings f = fields(line);
    if (f.size() >= 3 && f[0] == ";" && f[1] == "wrote") {
      (f[2].ends_with(".key") ? g.key_path : g.private_path) = f[2];
    } else if (f.size() == 8 && f[3] == "DNSKEY") {
      g.dnskey = line;
    }
  }
  g.ds = dsRdata(r.out);
  EXPECT_FALSE(g.key_path.empty()) << r.out;
  EXPECT_FALSE(g.private_path.empty()) << r.out;
  EXPECT_FALSE(g.dnskey.empty()) << r.out;
  EXPECT_EQ(g.ds.size(), 4u) << r.out;
  return g;
}

class Keygen : public ::testing::TestWithParam<const char*> {};

TEST_P(Keygen, DsMatchesBindAndLdnsAndBindSignsWithTheKey) {
  requireTool("ldns-key2ds", "ldnsutils");
  requireTool("dnssec-dsfromkey", "bind9-utils");
  requireTool("dnssec-signzone", "bind9-utils");
  requireTool("dnssec-verify", "bind9-utils");
  TempDir dir;
  Generated g = keygen(dir, GetParam());
  ASSERT_FALSE(g.key_path.empty());
  EXPECT_EQ(g.ds[1], GetParam());
  EXPECT_EQ(g.ds[2], "2");

  struct stat st {};
  ASSERT_EQ(stat(g.private_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(readFile(g.key_path).find(g.dnskey), std::string::npos);

  // -n: to stdout, not a file; -2: SHA-256.
  CommandResult ldns = runCommand({"ldns-key2ds", "-n", "-2", g.key_path});
  EXPECT_EQ(ldns.exit_code, 0) << ldns.err;
  EXPECT_EQ(dsRdata(ldns.out), g.ds) << ldns.out;
  CommandResult bind = runCommand({"dnssec-dsfromkey", "-2", g.key_path});
  EXPECT_EQ(bind.exit_code, 0) << bind.err;
  EXPECT_EQ(dsRdata(bind.out), g.ds) << bind.out;

  // BIND reads the private key and signs with it: -S finds the key in -K by its timing
  // metadata, -z takes the CSK (SEP bit set) as the zone-signing key too.
  std::string zone = dir.write("example.com.zone",
                               "$TTL 300\n"
                               "example.com. IN SOA ns1.example.com. admin.example.com. "
                               "1 3600 600 86400 300\n"
                               "example.com. IN NS ns1.example.com.\n"
                               "ns1.example.com. IN A 192.0.2.1\n"
                               "www.example.com. IN A 192.0.2.2\n");
  std::string signed_zone = dir.file("example.com.signed");
  CommandResult sign = runCommand({"dnssec-signzone", "-S", "-z", "-K", dir.path(), "-d",
                                   dir.path(), "-o", "example.com", "-f", signed_zone, zone},
                                  20s);
  ASSERT_EQ(sign.exit_code, 0) << sign.out << sign.err;
  std::string text = readFile(signed_zone);
  EXPECT_NE(text.find(g.ds[0]), std::string::npos) << "no RRSIG by key tag " << g.ds[0];
  CommandResult verify = runCommand({"dnssec-verify", "-z", "-o", "example.com", signed_zone}, 20s);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE((verify.out + verify.err).find("Zone fully signed"), std::string::npos)
      << verify.out << verify.err;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, Keygen, ::testing::Values("13", "15"), [](const auto& info) {
  return std::string(info.param) == "13" ? "EcdsaP256Sha256" : "Ed25519";
});

TEST(KeygenErrors, ExitOneWithASentence) {
  TempDir dir;
  struct Case {
    Strings args;
    std::string message;
  };
  const std::string missing = dir.file("missing");
  const Case cases[] = {
      {{"a..b", "--dir", dir.path()}, "error: invalid zone name 'a..b': empty label"},
      {{"example.com", "--dir", missing},
       "error: key directory " + missing + ": no such directory"},
      {{"example.com", "--algorithm", "8", "--dir", dir.path()},
       "error: --algorithm 8: use 13 (ECDSAP256SHA256) or 15 (ED25519)"},
  };
  for (const auto& c : cases) {
    Strings argv = {understudyBinary(), "keygen"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CommandResult r = runCommand(argv);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  // Nothing was written by the refused runs.
  CommandResult ls = runCommand({"ls", "-A", dir.path()});
  EXPECT_EQ(ls.out, "");
}

}  // namespace
}  // namespace understudy::systest
