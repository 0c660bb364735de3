// Parsing of incoming queries. Runs on the serving path: no allocation, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "understudy/dns/types.h"

namespace understudy::dns {

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  uint8_t opcode() const noexcept { return (flags >> 11) & 0xf; }
  bool qr() const noexcept { return flags & flag::kQr; }
};

inline uint16_t readU16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t readU32(const uint8_t* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void writeU16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void writeU32(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct Query {
  Header header;
  // The question name as the client wrote it (its case is echoed back) and lowercased for lookup.
  uint8_t qname[kMaxNameLength];
  uint8_t qname_lower[kMaxNameLength];
  size_t qname_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t question_end = 0;  // offset just past the question section

  // EDNS(0), RFC 6891.
  bool has_edns = false;
  uint16_t edns_udp_size = 0;
  uint8_t edns_version = 0;
  bool edns_do = false;
  bool edns_nsid = false;  // the OPT carried an NSID option (RFC 5001 §2.1)
  bool has_tsig = false;   // a TSIG RR was present; we have no keys (RFC 8945 §5.2: NOTAUTH)
};

enum class ParseStatus {
  kOk,
  kDrop,     // not even a header we could answer: stay silent
  kFormErr,  // a header we can echo, but the rest is malformed
  kNotImp,   // opcode other than QUERY
};

// Parses a query. On kFormErr / kNotImp, `query.header` is valid and, if `query.qname_len` is not
// zero, the question too, so the error response can echo it.
ParseStatus parseQuery(std::span<const uint8_t> msg, Query& query) noexcept;

}  // namespace understudy::dns
