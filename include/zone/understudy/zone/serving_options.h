// Per-config answers that are not zone data: EDNS UDP size, NSID, and the CHAOS identity and
// version records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace understudy::zone {

struct ServingOptions {
  uint16_t edns_udp_size = 1232;  // the most we send over UDP to an EDNS client
  // Wire forms built once per config, so a query only copies bytes. Empty: not configured.
  std::string nsid_option;   // RFC 5001: the whole EDNS option (code 3, length, identity)
  std::string identity_txt;  // RFC 4892: TXT RDATA for CH id.server. and hostname.bind.
  std::string version_txt;   // TXT RDATA for CH version.server. and version.bind.

  // `identity` and `version` are at most 255 octets (one TXT character-string); the config
  // loader allows 128.
  void setIdentity(std::string_view identity);
  void setVersion(std::string_view version);
};

}  // namespace understudy::zone
