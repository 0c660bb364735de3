// DNS protocol constants (RFC 1035 §3.2, §4.1.1; RFC 6891; RFC 8482).
#pragma once

#include <cstdint>

namespace understudy::dns {

namespace rrtype {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kSoa = 6;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kHinfo = 13;
inline constexpr uint16_t kMx = 15;
inline constexpr uint16_t kTxt = 16;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kSrv = 33;
inline constexpr uint16_t kDname = 39;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kDs = 43;
inline constexpr uint16_t kRrsig = 46;
inline constexpr uint16_t kNsec = 47;
inline constexpr uint16_t kNsec3 = 50;
inline constexpr uint16_t kSvcb = 64;
inline constexpr uint16_t kHttps = 65;
inline constexpr uint16_t kTkey = 249;
inline constexpr uint16_t kTsig = 250;
inline constexpr uint16_t kIxfr = 251;
inline constexpr uint16_t kAxfr = 252;
inline constexpr uint16_t kMailb = 253;
inline constexpr uint16_t kMaila = 254;
inline constexpr uint16_t kAny = 255;
}  // namespace rrtype

namespace rrclass {
inline constexpr uint16_t kIn = 1;
inline constexpr uint16_t kCh = 3;
inline constexpr uint16_t kAny = 255;
}  // namespace rrclass

namespace rcode {
inline constexpr uint8_t kNoError = 0;
inline constexpr uint8_t kFormErr = 1;
inline constexpr uint8_t kServFail = 2;
inline constexpr uint8_t kNxDomain = 3;
inline constexpr uint8_t kNotImp = 4;
inline constexpr uint8_t kRefused = 5;
inline constexpr uint8_t kYxDomain = 6;  // RFC 6672 §2.2: DNAME substitution overflowed
inline constexpr uint8_t kNotAuth = 9;
// Extended (RFC 6891 §6.1.3): upper 8 bits travel in the OPT TTL field.
inline constexpr uint16_t kBadVers = 16;
}  // namespace rcode

namespace flag {
inline constexpr uint16_t kQr = 0x8000;
inline constexpr uint16_t kAa = 0x0400;
inline constexpr uint16_t kTc = 0x0200;
inline constexpr uint16_t kRd = 0x0100;
inline constexpr uint16_t kRa = 0x0080;
inline constexpr uint16_t kAd = 0x0020;
inline constexpr uint16_t kCd = 0x0010;
inline constexpr uint16_t kOpcodeMask = 0x7800;
}  // namespace flag

inline constexpr uint16_t kEdnsOptionNsid = 3;  // RFC 5001

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameLength = 255;  // RFC 1035 §2.3.4, wire octets
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kClassicUdpSize = 512;  // RFC 1035 §4.2.1
inline constexpr size_t kMaxMessageSize = 65535;
inline constexpr uint32_t kMaxTtl = 0x7fffffff;  // RFC 2181 §8

}  // namespace understudy::dns
