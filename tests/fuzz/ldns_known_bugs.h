// Inputs that reach known bugs in Debian's libldns (1.8.3), skipped so the fuzzers keep looking
// for ours instead of finding the same third-party report again and again.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace understudy::fuzz {

// ldns_str2rdf_cert_alg() parses a numeric CERT algorithm into *rd and, when it is 0, returns
// LDNS_STATUS_CERT_BAD_ALGORITHM without freeing *rd: 2 bytes leak per bad CERT record
// ("www IN CERT 0 x"; found by fuzz_zone_file). Skips anything that could name the CERT type
// (RR type 37, also written TYPE037), case-insensitively.
inline bool mayReachLdnsCertLeak(std::string_view text) {
  auto contains = [&](std::string_view needle) {
    return std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != text.end();
  };
  return contains("cert") || contains("type37") || contains("type0");
}

}  // namespace understudy::fuzz
