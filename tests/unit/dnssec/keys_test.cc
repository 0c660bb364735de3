// Key files: generation, reading back, the refusals, and DS against an independent SHA-256.
#include "understudy/dnssec/keys.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// ldns/common.h defines bool, true and false as macros unless <stdbool.h> came first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

namespace understudy::dnssec {
namespace {

namespace fs = std::filesystem;

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "understudy-keys-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void write(const std::string& path, const std::string& text, mode_t mode = 0600) {
    { std::ofstream(path, std::ios::trunc) << text; }
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
  // The one error readKeys gives for example.com, or a test failure.
  std::string onlyError() {
    KeySet set = readKeys("example.com", dir_);
    EXPECT_TRUE(set.keys.empty());
    EXPECT_EQ(set.errors.size(), 1u);
    return set.errors.empty() ? "" : set.errors.front();
  }

  std::string dir_;
};

// SHA-256 over the owner's canonical wire form and the DNSKEY RDATA (RFC 4509 §2.1), computed
// here with OpenSSL, then the DS RR's digest field in hex.
std::string independentDigest(const std::string& dnskey) {
  ldns_rr* rr = nullptr;
  EXPECT_EQ(ldns_rr_new_frm_str(&rr, dnskey.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
  if (!rr) return "";
  ldns_buffer* buf = ldns_buffer_new(512);
  ldns_rdf* owner = ldns_rdf_clone(ldns_rr_owner(rr));
  ldns_dname2canonical(owner);
  ldns_buffer_write(buf, ldns_rdf_data(owner), ldns_rdf_size(owner));
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* f = ldns_rr_rdf(rr, i);
    ldns_buffer_write(buf, ldns_rdf_data(f), ldns_rdf_size(f));
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(ldns_buffer_begin(buf), ldns_buffer_position(buf), md);
  std::string hex;
  char two[3];
  for (unsigned char c : md) {
    std::snprintf(two, sizeof two, "%02x", c);
    hex += two;
  }
  ldns_rdf_deep_free(owner);
  ldns_buffer_free(buf);
  ldns_rr_free(rr);
  return hex;
}

std::vector<std::string> fields(const std::string& rr) {
  std::istringstream in(rr);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

void generatesAndReadsBack(const std::string& dir, uint8_t algorithm) {
  GeneratedKey g = generateCsk("Example.COM", algorithm, dir);
  char name[64];
  std::snprintf(name, sizeof name, "/Kexample.com.+%03u+%05u", algorithm, g.tag);
  EXPECT_EQ(g.key_path, dir + name + ".key");
  EXPECT_EQ(g.private_path, dir + name + ".private");
  struct stat st {};
  ASSERT_EQ(stat(g.private_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  auto dnskey = fields(g.dnskey);
  ASSERT_EQ(dnskey.size(), 8u) << g.dnskey;
  EXPECT_EQ(dnskey[0], "example.com.");
  EXPECT_EQ(dnskey[3], "DNSKEY");
  EXPECT_EQ(dnskey[4], "257");
  EXPECT_EQ(dnskey[5], "3");
  EXPECT_EQ(dnskey[6], std::to_string(algorithm));

  auto ds = fields(g.ds);
  ASSERT_EQ(ds.size(), 8u) << g.ds;
  EXPECT_EQ(ds[3], "DS");
  EXPECT_EQ(ds[4], std::to_string(g.tag));
  EXPECT_EQ(ds[5], std::to_string(algorithm));
  EXPECT_EQ(ds[6], "2");
  EXPECT_EQ(ds[7], independentDigest(g.dnskey));
  EXPECT_EQ(dsFromDnskey(g.dnskey), g.ds);

  KeySet set = readKeys("example.com.", dir);
  EXPECT_TRUE(set.errors.empty()) << set.errors.front();
  ASSERT_EQ(set.keys.size(), 1u);
  const Key& k = set.keys.front();
  EXPECT_EQ(k.tag, g.tag);
  EXPECT_EQ(k.algorithm, algorithm);
  EXPECT_EQ(k.flags, kCskFlags);
  EXPECT_EQ(k.dnskey, g.dnskey);
  EXPECT_EQ(k.key_path, g.key_path);
  EXPECT_NE(k.private_key, nullptr);
}

TEST_F(KeysTest, EcdsaP256GeneratesAndReadsBack) {
  generatesAndReadsBack(dir_, 13);
}

TEST_F(KeysTest, Ed25519GeneratesAndReadsBack) {
  generatesAndReadsBack(dir_, 15);
}

TEST_F(KeysTest, KeysOfOtherZonesInTheDirectoryAreNotLookedAt) {
  generateCsk("example.com", 13, dir_);
  generateCsk("other.example", 15, dir_);
  generateCsk("sub.example.com", 13, dir_);
  KeySet set = readKeys("example.com", dir_);
  EXPECT_TRUE(set.errors.empty());
  EXPECT_EQ(set.keys.size(), 1u);
}

TEST_F(KeysTest, GenerationRefusals) {
  auto message = [&](const std::string& zone, uint8_t alg, const std::string& dir) {
    try {
      generateCsk(zone, alg, dir);
    } catch (const KeyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("a..b", 13, dir_), "invalid zone name 'a..b': empty label");
  EXPECT_EQ(message("example.com", 8, dir_),
            "algorithm 8 (RSASHA256) is not supported: use 13 (ECDSAP256SHA256) or 15 (ED25519)");
  EXPECT_EQ(message("example.com", 13, dir_ + "/missing"),
            "key directory " + dir_ + "/missing: no such directory");
  write(dir_ + "/file", "x");
  EXPECT_EQ(message("example.com", 13, dir_ + "/file"),
            "key directory " + dir_ + "/file: not a directory");
  EXPECT_FALSE(fs::exists(dir_ + "/missing"));
}

TEST_F(KeysTest, MissingPrivateFile) {
  GeneratedKey g = generateCsk("example.com", 13, dir_);
  fs::remove(g.private_path);
  std::string base = g.key_path.substr(dir_.size() + 1, g.key_path.size() - dir_.size() - 5);
  EXPECT_EQ(onlyError(), g.key_path + " (key tag " + std::to_string(g.tag) +
                             "): no private key file " + base + ".private beside it");
}

TEST_F(KeysTest, MissingPublicFile) {
  GeneratedKey g = generateCsk("example.com", 13, dir_);
  fs::remove(g.key_path);
  EXPECT_NE(onlyError().find(g.private_path + " (key tag " + std::to_string(g.tag) +
                             "): no public key file"),
            std::string::npos);
}

TEST_F(KeysTest, UnparsablePrivateFile) {
  GeneratedKey g = generateCsk("example.com", 13, dir_);
  write(g.private_path, "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n");
  EXPECT_EQ(onlyError().rfind(g.private_path + " (key tag " + std::to_string(g.tag) +
                                  "): cannot read the private key: ",
                              0),
            0u);
}

TEST_F(KeysTest, UnparsableKeyFile) {
  GeneratedKey g = generateCsk("example.com", 13, dir_);
  write(g.key_path, "; nothing but a comment\n", 0644);
  EXPECT_EQ(onlyError(),
            g.key_path + " (key tag " + std::to_string(g.tag) + "): no DNSKEY record in it");
}

TEST_F(KeysTest, KeyForAnotherZone) {
  GeneratedKey g = generateCsk("other.example", 13, dir_);
  std::string base = "/Kexample.com.+013+" + std::to_string(100000 + g.tag).substr(1);
  fs::rename(g.key_path, dir_ + base + ".key");
  fs::rename(g.private_path, dir_ + base + ".private");
  EXPECT_EQ(onlyError(), dir_ + base + ".key (key tag " + std::to_string(g.tag) +
                             "): the key is for zone other.example., not example.com.");
}

TEST_F(KeysTest, UnsupportedAlgorithm) {
  // An RSASHA256 DNSKEY (RFC 5702 §6.1's example key).
  const std::string key =
      "example.com. 3600 IN DNSKEY 256 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh"
      "36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=\n";
  write(dir_ + "/Kexample.com.+008+09033.key", key, 0644);
  write(dir_ + "/Kexample.com.+008+09033.private",
        "Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\n");
  std::string e = onlyError();
  EXPECT_EQ(e.rfind(dir_ + "/Kexample.com.+008+09033.key (key tag ", 0), 0u) << e;
  EXPECT_NE(e.find("): algorithm 8 (RSASHA256) is not supported: use 13 (ECDSAP256SHA256) or 15 "
                   "(ED25519)"),
            std::string::npos)
      << e;
}

TEST_F(KeysTest, PrivateKeyThatDoesNotMatch) {
  GeneratedKey a = generateCsk("example.com", 13, dir_);
  std::string other_dir = dir_ + "/other";
  fs::create_directory(other_dir);
  GeneratedKey b = generateCsk("example.com", 13, other_dir);
  write(a.private_path, read(b.private_path));
  std::string base = a.key_path.substr(dir_.size() + 1, a.key_path.size() - dir_.size() - 5);
  EXPECT_EQ(onlyError(), a.private_path + " (key tag " + std::to_string(a.tag) +
                             "): the private key does not match the public key in " + base +
                             ".key");
}

TEST_F(KeysTest, PrivateKeyOfAnotherAlgorithm) {
  GeneratedKey a = generateCsk("example.com", 13, dir_);
  std::string other_dir = dir_ + "/other";
  fs::create_directory(other_dir);
  GeneratedKey b = generateCsk("example.com", 15, other_dir);
  write(a.private_path, read(b.private_path));
  EXPECT_NE(onlyError().find("): the private key is algorithm 15, the public key in"),
            std::string::npos);
}

TEST_F(KeysTest, PrivateFileReadableByOthersIsRefused) {
  // Tests may run as root, who can read anything: the check is on the mode bits.
  GeneratedKey g = generateCsk("example.com", 15, dir_);
  ASSERT_EQ(chmod(g.private_path.c_str(), 0644), 0);
  EXPECT_EQ(onlyError(), g.private_path + " (key tag " + std::to_string(g.tag) +
                             "): mode 0644: must not be readable by group or others (chmod 600)");
  ASSERT_EQ(chmod(g.private_path.c_str(), 0640), 0);
  EXPECT_NE(onlyError().find("mode 0640: must not be readable by group or others"),
            std::string::npos);
  ASSERT_EQ(chmod(g.private_path.c_str(), 0620), 0);
  EXPECT_NE(onlyError().find("mode 0620: must not be writable or executable by group or others"),
            std::string::npos);
  ASSERT_EQ(chmod(g.private_path.c_str(), 0400), 0);
  EXPECT_EQ(readKeys("example.com", dir_).keys.size(), 1u);
}

TEST_F(KeysTest, DsFromDnskeyRefusesOtherRecords) {
  EXPECT_THROW(dsFromDnskey("example.com. 300 IN A 192.0.2.1"), KeyError);
  EXPECT_THROW(dsFromDnskey("not a record"), KeyError);
}

TEST_F(KeysTest, DsOfAKnownKey) {
  // RFC 4509 §2.3's example: dskey.example.com. DNSKEY and its SHA-256 DS.
  const std::string dnskey =
      "dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/"
      "2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwj"
      "M9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
  auto ds = fields(dsFromDnskey(dnskey));
  ASSERT_EQ(ds.size(), 8u);
  EXPECT_EQ(ds[4], "60485");
  EXPECT_EQ(ds[7], "d4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a");
}

}  // namespace
}  // namespace understudy::dnssec
