#include "understudy/dns/message.h"

#include <cstring>

#include "understudy/dns/name.h"

namespace understudy::dns {

namespace {

// The question name may not be compressed: nothing precedes it but the header.
bool readQuestionName(const uint8_t* msg, size_t len, size_t& pos, Query& q) noexcept {
  size_t written = 0;
  while (true) {
    if (pos >= len) return false;
    uint8_t l = msg[pos];
    if (l > kMaxLabelLength) return false;  // also rejects pointers and extended labels
    if (pos + 1 + l > len || written + 1 + l > kMaxNameLength) return false;
    q.qname[written] = l;
    q.qname_lower[written] = l;
    ++written;
    for (size_t i = 0; i < l; ++i) {
      uint8_t c = msg[pos + 1 + i];
      q.qname[written] = c;
      q.qname_lower[written] = lowerByte(c);
      ++written;
    }
    pos += 1 + l;
    if (l == 0) break;
  }
  q.qname_len = written;
  return true;
}

bool parseQuestion(const uint8_t* msg, size_t len, Query& q) noexcept {
  size_t pos = kHeaderSize;
  if (!readQuestionName(msg, len, pos, q)) {
    q.qname_len = 0;
    return false;
  }
  if (pos + 4 > len) {
    q.qname_len = 0;
    return false;
  }
  q.qtype = readU16(msg + pos);
  q.qclass = readU16(msg + pos + 2);
  q.question_end = pos + 4;
  return true;
}

// RFC 6891 §6.1: OPT owner is the root, options are {code, length, data} filling RDATA exactly.
bool parseOpt(const uint8_t* msg, size_t rdata, size_t rdlen, uint16_t rclass, uint32_t ttl,
              Query& q) noexcept {
  q.has_edns = true;
  q.edns_udp_size = rclass;
  q.edns_version = static_cast<uint8_t>(ttl >> 16);
  q.edns_do = (ttl & 0x8000) != 0;
  size_t pos = rdata;
  size_t end = rdata + rdlen;
  while (pos < end) {
    if (pos + 4 > end) return false;
    uint16_t code = readU16(msg + pos);
    uint16_t optlen = readU16(msg + pos + 2);
    pos += 4;
    if (pos + optlen > end) return false;
    if (code == kEdnsOptionNsid) q.edns_nsid = true;
    pos += optlen;  // unknown options are ignored (§6.1.2)
  }
  return true;
}

// The answer, authority and additional sections of a query: skipped, except OPT and TSIG.
bool parseRecords(const uint8_t* msg, size_t len, Query& q) noexcept {
  size_t pos = q.question_end;
  const uint32_t total = uint32_t{q.header.ancount} + q.header.nscount + q.header.arcount;
  const uint32_t additional_start = uint32_t{q.header.ancount} + q.header.nscount;
  uint8_t scratch[kMaxNameLength];
  for (uint32_t i = 0; i < total; ++i) {
    size_t name_len = 0;
    size_t next = 0;
    if (!readName(msg, len, pos, scratch, &name_len, &next)) return false;
    pos = next;
    if (pos + 10 > len) return false;
    uint16_t type = readU16(msg + pos);
    uint16_t rclass = readU16(msg + pos + 2);
    uint32_t ttl = readU32(msg + pos + 4);
    uint16_t rdlen = readU16(msg + pos + 8);
    pos += 10;
    if (pos + rdlen > len) return false;
    if (q.has_tsig) return false;  // RFC 8945 §5.1: TSIG must be the last RR
    if (type == rrtype::kOpt) {
      // One OPT, in the additional section, owned by the root (RFC 6891 §6.1.1).
      if (i < additional_start || q.has_edns || name_len != 1) return false;
      if (!parseOpt(msg, pos, rdlen, rclass, ttl, q)) return false;
    } else if (type == rrtype::kTsig) {
      if (i + 1 != total) return false;
      q.has_tsig = true;
    }
    pos += rdlen;
  }
  return pos == len;  // anything after the last record is garbage
}

}  // namespace

ParseStatus parseQuery(std::span<const uint8_t> packet, Query& q) noexcept {
  const uint8_t* msg = packet.data();
  const size_t len = packet.size();
  q.qname_len = 0;
  q.has_edns = false;
  q.edns_nsid = false;
  q.has_tsig = false;
  if (len < kHeaderSize) return ParseStatus::kDrop;
  q.header.id = readU16(msg);
  q.header.flags = readU16(msg + 2);
  q.header.qdcount = readU16(msg + 4);
  q.header.ancount = readU16(msg + 6);
  q.header.nscount = readU16(msg + 8);
  q.header.arcount = readU16(msg + 10);
  // A response sent to us (QR=1) is never answered: answering would let two servers loop.
  if (q.header.qr()) return ParseStatus::kDrop;

  if (q.header.opcode() != 0) {
    // Echo what we can (question, EDNS) so the client sees a well-formed NOTIMP.
    if (q.header.qdcount == 1 && parseQuestion(msg, len, q) && !parseRecords(msg, len, q)) {
      q.has_edns = false;
    }
    return ParseStatus::kNotImp;
  }
  if (q.header.qdcount != 1) return ParseStatus::kFormErr;
  if (!parseQuestion(msg, len, q)) return ParseStatus::kFormErr;
  if (!parseRecords(msg, len, q)) {
    q.has_edns = false;
    return ParseStatus::kFormErr;
  }
  return ParseStatus::kOk;
}

}  // namespace understudy::dns
