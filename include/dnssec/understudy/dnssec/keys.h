// DNSSEC keys in the BIND file format (K<zone>.+<alg>+<tag>.key and .private), the format
// `dnssec-keygen` and ldns read and write: generating a combined signing key (CSK), reading a
// zone's keys from a directory, and the DS record a parent publishes for a DNSKEY.
// docs/dnssec.md describes the files and the checks made on them.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct ldns_struct_key;  // ldns's private key (ldns_key): only this module's sources use it

namespace understudy::dnssec {

// The algorithms understudy signs with (RFC 8624 recommends both).
inline constexpr uint8_t kEcdsaP256Sha256 = 13;
inline constexpr uint8_t kEd25519 = 15;
// "ECDSAP256SHA256", "ED25519", or the number for any other algorithm.
std::string algorithmName(uint8_t algorithm);

// DNSKEY flags of a combined signing key: Zone Key (256) + Secure Entry Point (1).
inline constexpr uint16_t kCskFlags = 257;
// The TTL written into generated .key files (a zone's DNSKEY TTL is chosen when it is served).
inline constexpr uint32_t kKeyFileTtl = 3600;

// A refusal with the operator-facing sentence in what(): generation and DS computation throw it.
class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What generateCsk wrote.
struct GeneratedKey {
  std::string key_path;      // DIR/Kexample.com.+013+12345.key
  std::string private_path;  // DIR/Kexample.com.+013+12345.private (mode 0600)
  uint16_t tag = 0;
  std::string dnskey;  // the DNSKEY RR in presentation format, one line, no comment
  std::string ds;      // its DS RR (SHA-256, digest type 2), one line
};

// Generates a CSK for `zone` ("example.com" or "example.com.") with `algorithm` (13 or 15) and
// writes its two files into `dir`. The .private file is created with O_EXCL and mode 0600; an
// existing file is never overwritten. Throws KeyError: invalid zone name, unsupported algorithm,
// `dir` missing or not a directory, a file that cannot be created (both files are removed then).
GeneratedKey generateCsk(const std::string& zone, uint8_t algorithm, const std::string& dir);

// One key pair read from a directory.
struct Key {
  std::string key_path;
  std::string private_path;
  uint16_t tag = 0;
  uint8_t algorithm = 0;
  uint16_t flags = 0;
  std::string dnskey;  // presentation format, one line
  // The private key, owner and flags set from the .key file. For the signer (not yet built).
  std::shared_ptr<ldns_struct_key> private_key;
};

// A zone's keys and what was wrong with the files that were not taken.
struct KeySet {
  std::vector<Key> keys;
  std::vector<std::string> errors;  // one sentence each, naming the file and the key tag
};

// Reads every K<zone>.+<alg>+<tag>.key / .private pair in `dir` for `zone` (files of other zones
// are not looked at). A pair is refused, with a sentence in `errors`, when: the .private (or the
// .key) file is missing or cannot be read or parsed; the DNSKEY's owner is not `zone`; the
// algorithm is not 13 or 15; the file name's tag or algorithm is not the key's; the .private file
// is readable or writable by group or others; the private key does not match the public key.
// A `dir` that cannot be listed is one error.
KeySet readKeys(const std::string& zone, const std::string& dir);

// The DS RR (SHA-256, digest type 2, RFC 4509) for a DNSKEY RR in presentation format, one line
// in presentation format. Throws KeyError when `dnskey` is not a DNSKEY RR.
std::string dsFromDnskey(const std::string& dnskey);

}  // namespace understudy::dnssec
