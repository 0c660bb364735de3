// RFC 1035 §5 master files, read by our own reader so that a zone with millions of names loads in
// a fraction of a second: the file is read in one go and tokenized in memory, and the common types
// (A, AAAA, NS, CNAME, PTR, MX, TXT, SOA, SRV) are converted to wire format right here. Any other
// type, and RFC 3597 "\# len hex" RDATA, is handed to parseRdata() (ldns), so every type ldns
// knows is still accepted. The records are the ones ldns used to produce, byte for byte
// (tests/unit/zone/zone_file_diff_test.cc compares the two), with stricter checks where ldns let
// nonsense through (numbers that do not fit their field, names over 255 octets, a bad TTL).
// The text (zone_text.h) and its tokens (zone_lexer.h) are apart; this file gives them meaning:
// directives, owner, TTL, class, type and RDATA.
#include <arpa/inet.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "understudy/common/duration.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/zone/record.h"
#include "zone_lexer.h"
#include "zone_text.h"

namespace understudy::zone {
namespace {

namespace rrtype = dns::rrtype;
using detail::countNewlines;
using detail::failAt;
using detail::joined;
using detail::shown;
using detail::Token;
using detail::ZoneLexer;
using detail::ZoneText;

// Asks for transparent huge pages on the whole 2 MiB pages inside [p, p + bytes): a zone with a
// million names fills a few hundred MB of records, and 4 KiB page faults cost more than parsing.
// Only for big blocks, which malloc maps on their own (its mmap threshold is at most 32 MiB).
void adviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < (size_t{64} << 20)) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// ---------------------------------------------------------------------------------------------
// Characters and messages.

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

bool iequals(std::string_view a, std::string_view upper_b) {
  if (a.size() != upper_b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper_b[i]) return false;
  }
  return true;
}

// Text quoted in a message, cut short if it is very long.
std::string clipped(std::string text) {
  constexpr size_t kMax = 300;
  if (text.size() > kMax) text.replace(kMax, std::string::npos, "...");
  return text;
}

// ---------------------------------------------------------------------------------------------
// Field parsers. Each returns nullptr on success, or the reason the field is wrong.

constexpr size_t kNameBuffer = dns::kMaxNameLength;  // what dns::parseName may write

// Reads "\DDD" or "\X" (the backslash already consumed) like ldns's parse_escape.
const char* unescape(const char*& s, const char* e, uint8_t* out) {
  if (s == e) return "dangling backslash";
  if (isDigit(*s)) {
    if (e - s < 3 || !isDigit(s[1]) || !isDigit(s[2])) return "bad \\DDD escape";
    int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (v > 255) return "bad \\DDD escape";
    *out = static_cast<uint8_t>(v);
    s += 3;
  } else {
    *out = static_cast<uint8_t>(*s++);
  }
  return nullptr;
}

// A name field: dns::parseName (the one parser of names, shared with the config and the control
// API), once the token is known not to be a quoted string. `out` holds kNameBuffer octets.
const char* nameToWire(const Token& t, std::string_view origin, uint8_t* out, size_t* out_len) {
  if (t.quoted) return "a quoted string is not a domain name";
  const dns::NameError why = dns::parseName(t.view(), origin, out, out_len);
  return why == dns::NameError::kNone ? nullptr : dns::nameErrorText(why);
}

// One <character-string> (RFC 1035 §3.3), appended with its length octet.
const char* appendString(const Token& t, std::string* out) {
  if (!t.escaped) {
    if (t.size > 255) return "string longer than 255 octets";
    out->push_back(static_cast<char>(t.size));
    out->append(t.text, t.size);
    return nullptr;
  }
  const size_t at = out->size();
  out->push_back(0);
  const char* s = t.text;
  const char* const e = s + t.size;
  size_t length = 0;
  while (s < e) {
    uint8_t c = static_cast<uint8_t>(*s++);
    if (c == '\\') {
      if (const char* why = unescape(s, e, &c)) return why;
    }
    if (++length > 255) return "string longer than 255 octets";
    out->push_back(static_cast<char>(c));
  }
  (*out)[at] = static_cast<char>(length);
  return nullptr;
}

// Dotted quad exactly as inet_pton(AF_INET) (which ldns used) accepts it: four decimal octets,
// no leading zeros.
bool parseIpv4(const Token& t, uint8_t* out) {
  if (t.quoted) return false;
  int octets = 0;
  bool digit = false;
  unsigned value = 0;
  for (size_t i = 0; i < t.size; ++i) {
    char c = t.text[i];
    if (isDigit(c)) {
      if (digit && value == 0) return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return false;
      if (!digit) {
        if (++octets > 4) return false;
        digit = true;
      }
    } else if (c == '.' && digit) {
      if (octets == 4) return false;
      out[octets - 1] = static_cast<uint8_t>(value);
      value = 0;
      digit = false;
    } else {
      return false;
    }
  }
  if (octets < 4 || !digit) return false;
  out[3] = static_cast<uint8_t>(value);
  return true;
}

bool parseIpv6(const Token& t, uint8_t* out) {
  char text[64];
  if (t.quoted || t.size >= sizeof text) return false;
  std::memcpy(text, t.text, t.size);
  text[t.size] = '\0';
  return ::inet_pton(AF_INET6, text, out) == 1;
}

// A decimal integer of at most `max`.
std::optional<std::string> parseInteger(const Token& t, uint64_t max, uint32_t* out) {
  if (t.quoted || t.size == 0) return "invalid integer '" + clipped(shown(t)) + "'";
  uint64_t value = 0;
  for (size_t i = 0; i < t.size; ++i) {
    if (!isDigit(t.text[i])) return "invalid integer '" + clipped(shown(t)) + "'";
    if (value <= max) value = value * 10 + static_cast<uint64_t>(t.text[i] - '0');
  }
  if (value > max) {
    return "integer " + clipped(std::string(t.view())) + " out of range (0.." +
           std::to_string(max) + ")";
  }
  *out = static_cast<uint32_t>(value);
  return std::nullopt;
}

// A period (TTL, SOA timer) as ldns_str2period reads it, BIND style: "3600", "1h30m", "2w",
// "1d12h"; units s m h d w in either case, a trailing bare number counts seconds. The grammar is
// the one all durations share (understudy/common/duration.h).
constexpr DurationSyntax kPeriodSyntax{
    .units = duration_unit::kSeconds | duration_unit::kMinutes | duration_unit::kHours |
             duration_unit::kDays | duration_unit::kWeeks,
    .bare_seconds = true,
    .trailing_seconds = true,
    .any_case = true,
};
enum class Period { kOk, kInvalid, kTooBig };
Period parsePeriod(std::string_view s, uint64_t max, uint32_t* out) {
  const DurationParse period = parseDuration(s, kPeriodSyntax);
  if (!period) {
    // A number too long to read is too big for any field.
    return period.error == DurationError::kTooManyDigits ? Period::kTooBig : Period::kInvalid;
  }
  const uint64_t seconds = static_cast<uint64_t>(period.value.count()) / 1000;
  if (seconds > max) return Period::kTooBig;
  *out = static_cast<uint32_t>(seconds);
  return Period::kOk;
}

// The types converted here; 0 for any other (typeFromText then asks ldns).
uint16_t fastType(const Token& t) {
  if (t.quoted || t.escaped || t.size > 5) return 0;
  char u[5] = {};
  for (size_t i = 0; i < t.size; ++i) u[i] = upper(t.text[i]);
  std::string_view s(u, t.size);
  switch (t.size) {
    case 1:
      return s == "A" ? rrtype::kA : 0;
    case 2:
      return s == "NS" ? rrtype::kNs : s == "MX" ? rrtype::kMx : 0;
    case 3:
      return s == "TXT"   ? rrtype::kTxt
             : s == "SOA" ? rrtype::kSoa
             : s == "PTR" ? rrtype::kPtr
             : s == "SRV" ? rrtype::kSrv
                          : 0;
    case 4:
      return s == "AAAA" ? rrtype::kAaaa : 0;
    case 5:
      return s == "CNAME" ? rrtype::kCname : 0;
    default:
      return 0;
  }
}

// A mnemonic (letters, digits, '-') or TYPEnnn. ldns would read "TYPE65x" as type 65.
bool looksLikeTypeName(const Token& t) {
  if (t.quoted || t.escaped || t.size == 0 || t.size > 32) return false;
  const std::string_view s = t.view();
  for (char c : s) {
    if (!isDigit(c) && c != '-' && (upper(c) < 'A' || upper(c) > 'Z')) return false;
  }
  if (s.size() > 4 && iequals(s.substr(0, 4), "TYPE")) {
    return std::all_of(s.begin() + 4, s.end(), isDigit);
  }
  return true;
}

bool isFastType(uint16_t type) {
  switch (type) {
    case rrtype::kA:
    case rrtype::kAaaa:
    case rrtype::kNs:
    case rrtype::kCname:
    case rrtype::kPtr:
    case rrtype::kMx:
    case rrtype::kTxt:
    case rrtype::kSoa:
    case rrtype::kSrv:
      return true;
    default:
      return false;
  }
}

// The class mnemonics ldns knows and RFC 3597 CLASSnnn; -1 if the token is not a class.
int classFromText(std::string_view s) {
  if (iequals(s, "IN")) return 1;
  if (iequals(s, "CH")) return 3;
  if (iequals(s, "HS")) return 4;
  if (iequals(s, "NONE")) return 254;
  if (iequals(s, "ANY")) return 255;
  if (s.size() > 5 && s.size() <= 10 && iequals(s.substr(0, 5), "CLASS")) {
    uint32_t value = 0;
    for (char c : s.substr(5)) {
      if (!isDigit(c)) return -1;
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value >= 1 && value <= 0xffff) return static_cast<int>(value);
  }
  return -1;
}

std::string classText(int klass) {
  switch (klass) {
    case 1:
      return "IN";
    case 3:
      return "CH";
    case 4:
      return "HS";
    case 254:
      return "NONE";
    case 255:
      return "ANY";
    default:
      return "CLASS" + std::to_string(klass);
  }
}

bool sameNameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (dns::lowerByte(static_cast<uint8_t>(a[i])) != dns::lowerByte(static_cast<uint8_t>(b[i])))
      return false;
  }
  return true;
}

class Reader {
 public:
  Reader(const std::string& path, std::string_view origin, uint32_t default_ttl, ZoneText* text)
      : path_(path),
        text_(text),
        lexer_(path, text->begin(), text->end()),
        zone_origin_(origin),
        origin_(origin),
        default_ttl_(default_ttl) {
    // Like ldns_zone_new_frm_fp_l, a blank owner before any owner means the zone's origin.
    std::memcpy(owner_, origin.data(), origin.size());
    owner_len_ = origin.size();
    rdata_.reserve(1024);
  }

  void run(std::vector<Record>* records) {
    for (;;) {
      text_->consumed(lexer_.position());
      if (!lexer_.next()) break;
      const Token& first = lexer_[0];
      if (!lexer_.blankOwner() && !first.quoted && first.text[0] == '$') {
        directive();
      } else {
        record(records);
      }
    }
  }

 private:
  // Errors in an entry name its first line.
  [[noreturn]] void fail(std::string message) const {
    failAt(path_, lexer_.line(), std::move(message));
  }

  // ---- entries

  uint32_t ttlOrFail(const Token& t) {
    uint32_t ttl = 0;
    switch (t.quoted ? Period::kInvalid : parsePeriod(t.view(), dns::kMaxTtl, &ttl)) {
      case Period::kOk:
        return ttl;
      case Period::kTooBig:
        fail("TTL " + clipped(std::string(t.view())) + " out of range (0.." +
             std::to_string(dns::kMaxTtl) + ")");
      case Period::kInvalid:
        break;
    }
    fail("invalid TTL '" + clipped(shown(t)) +
         "' (expected seconds or e.g. 300, 5m, 1h, 1d, 1h30m)");
  }

  void directive() {
    const Token& d = lexer_[0];
    const std::string_view name = d.view();
    const size_t args = lexer_.size() - 1;
    if (iequals(name, "$ORIGIN")) {
      if (args != 1) fail("$ORIGIN takes one domain name");
      uint8_t wire[kNameBuffer];
      size_t len = 0;
      if (const char* why = nameToWire(lexer_[1], origin_, wire, &len)) {
        fail("invalid $ORIGIN '" + clipped(shown(lexer_[1])) + "': " + why);
      }
      origin_.assign(reinterpret_cast<const char*>(wire), len);
      ++origin_generation_;
    } else if (iequals(name, "$TTL")) {
      if (args != 1) fail("$TTL takes one TTL");
      default_ttl_ = ttlOrFail(lexer_[1]);
    } else if (iequals(name, "$INCLUDE")) {
      fail("$INCLUDE is not supported");
    } else if (iequals(name, "$GENERATE")) {
      fail("$GENERATE is not supported");
    } else {
      fail("unknown directive '" + clipped(std::string(name)) + "'");
    }
  }

  void record(std::vector<Record>* records) {
    const Token* t = lexer_.tokens();
    const size_t n = lexer_.size();
    size_t i = 0;
    if (!lexer_.blankOwner()) {
      // Records of one name usually follow each other: parse the owner once.
      const Token& o = t[0];
      if (o.size != owner_text_len_ || std::memcmp(o.text, owner_text_, o.size) != 0 ||
          owner_origin_ != origin_generation_) {
        owner_text_len_ = 0;
        if (const char* why = nameToWire(o, origin_, owner_, &owner_len_)) {
          fail("invalid owner name '" + clipped(shown(o)) + "': " + why);
        }
        if (!o.quoted && o.size <= sizeof owner_text_) {
          std::memcpy(owner_text_, o.text, o.size);
          owner_text_len_ = o.size;
          owner_origin_ = origin_generation_;
        }
      }
      i = 1;
    }

    // [TTL] [class] or [class] [TTL] (RFC 1035 §5.1); a TTL starts with a digit, no type does.
    uint32_t ttl = default_ttl_;
    bool have_ttl = false;
    bool have_class = false;
    while (i < n && !t[i].quoted && !t[i].escaped) {
      if (!have_ttl && isDigit(t[i].text[0])) {
        ttl = ttlOrFail(t[i]);
        have_ttl = true;
      } else if (int klass = have_class ? -1 : classFromText(t[i].view()); klass > 0) {
        if (klass != 1) {
          fail("class " + classText(klass) + " is not supported (only IN)");
        }
        have_class = true;
      } else {
        break;
      }
      ++i;
    }
    if (i == n) fail("missing record type");
    const Token& type_token = t[i++];
    uint16_t type = fastType(type_token);
    if (type == 0) {
      std::optional<uint16_t> known;
      if (looksLikeTypeName(type_token)) known = typeFromText(type_token.view());
      if (!known) fail("unknown type '" + clipped(shown(type_token)) + "'");
      type = *known;
    }

    const Token* rd = t + i;
    const size_t rn = n - i;
    std::optional<std::string> generic;
    const bool rfc3597 =
        rn > 0 && !rd[0].quoted && rd[0].size == 2 && rd[0].text[0] == '\\' && rd[0].text[1] == '#';
    if (rfc3597 || !fastRdata(type, rd, rn)) {
      std::string error;
      generic = parseRdata(type, joined(rd, rn), origin_, &error);
      if (!generic) fail(error);
    }

    if (type == rrtype::kSoa) {
      // RFC 1035 §5.2: exactly one SOA, at the top of the zone.
      const std::string_view owner(reinterpret_cast<const char*>(owner_), owner_len_);
      if (have_soa_) fail("more than one SOA record");
      if (!sameNameIgnoringCase(owner, zone_origin_)) {
        fail("SOA record owner '" + dns::nameToText(owner) + "' is not the zone apex '" +
             dns::nameToText(zone_origin_) + "'");
      }
      have_soa_ = true;
    }

    // Aggregate-initialized and moved in: emplace_back() would zero the Record before we fill it
    // (and clang 14, which builds the fuzzers, has no parenthesized aggregate initialization).
    records->push_back(Record{std::string(reinterpret_cast<const char*>(owner_), owner_len_), type,
                              ttl, generic ? std::move(*generic) : std::string(rdata_),
                              std::nullopt, SourceLocation{path_, lexer_.line(), 0}, std::string(),
                              Record::Mark(), Record::Mark()});
  }

  // ---- RDATA of the common types, into rdata_. False: not one of them, ask parseRdata().

  bool fastRdata(uint16_t type, const Token* rd, size_t rn) {
    rdata_.clear();
    if (rn == 0 && isFastType(type)) fail("missing RDATA for " + typeToText(type));
    switch (type) {
      case rrtype::kA: {
        uint8_t a[4];
        if (rn != 1 || !parseIpv4(rd[0], a)) {
          fail("not a valid IPv4 address '" + clipped(joined(rd, rn)) + "'");
        }
        rdata_.append(reinterpret_cast<const char*>(a), 4);
        return true;
      }
      case rrtype::kAaaa: {
        uint8_t a[16];
        if (rn != 1 || !parseIpv6(rd[0], a)) {
          fail("not a valid IPv6 address '" + clipped(joined(rd, rn)) + "'");
        }
        rdata_.append(reinterpret_cast<const char*>(a), 16);
        return true;
      }
      case rrtype::kNs:
      case rrtype::kCname:
      case rrtype::kPtr:
        fields(type, rd, rn, {"name"});
        appendName(type, rd, rn, rd[0]);
        return true;
      case rrtype::kMx:
        fields(type, rd, rn, {"preference", "exchange"});
        appendInteger(type, rd, rn, rd[0], 0xffff, 2);
        appendName(type, rd, rn, rd[1]);
        return true;
      case rrtype::kSrv:
        fields(type, rd, rn, {"priority", "weight", "port", "target"});
        for (size_t f = 0; f < 3; ++f) appendInteger(type, rd, rn, rd[f], 0xffff, 2);
        appendName(type, rd, rn, rd[3]);
        return true;
      case rrtype::kSoa:
        fields(type, rd, rn, {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum"});
        appendName(type, rd, rn, rd[0]);
        appendName(type, rd, rn, rd[1]);
        appendInteger(type, rd, rn, rd[2], 0xffffffff, 4);
        for (size_t f = 3; f < 7; ++f) appendPeriod(type, rd, rn, rd[f]);
        return true;
      case rrtype::kTxt:
        for (size_t f = 0; f < rn; ++f) {
          if (const char* why = appendString(rd[f], &rdata_)) invalid(type, rd, rn, why);
        }
        if (rdata_.size() > 0xffff) invalid(type, rd, rn, "RDATA longer than 65535 octets");
        return true;
      default:
        return false;
    }
  }

  // The same wording as parseRdata(): "invalid MX data '10 a..b': ...".
  [[noreturn]] void invalid(uint16_t type, const Token* rd, size_t rn, const std::string& why) {
    fail("invalid " + typeToText(type) + " data '" + clipped(joined(rd, rn)) + "': " + why);
  }

  void fields(uint16_t type, const Token* rd, size_t rn, std::initializer_list<const char*> names) {
    if (rn == names.size()) return;
    std::string expected;
    for (const char* name : names) {
      // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
      if (!expected.empty()) expected += ' ';
      expected += name;
    }
    invalid(type, rd, rn,
            "expected " + std::to_string(names.size()) +
                (names.size() == 1 ? " field" : " fields") + " (" + expected + "), got " +
                std::to_string(rn));
  }

  void appendName(uint16_t type, const Token* rd, size_t rn, const Token& t) {
    uint8_t wire[kNameBuffer];
    size_t len = 0;
    if (const char* why = nameToWire(t, origin_, wire, &len)) {
      invalid(type, rd, rn, "bad name '" + clipped(shown(t)) + "': " + why);
    }
    rdata_.append(reinterpret_cast<const char*>(wire), len);
  }

  void appendInteger(uint16_t type, const Token* rd, size_t rn, const Token& t, uint64_t max,
                     int octets) {
    uint32_t value = 0;
    if (auto why = parseInteger(t, max, &value)) invalid(type, rd, rn, *why);
    appendNumber(value, octets);
  }

  void appendPeriod(uint16_t type, const Token* rd, size_t rn, const Token& t) {
    uint32_t value = 0;
    switch (t.quoted ? Period::kInvalid : parsePeriod(t.view(), 0xffffffff, &value)) {
      case Period::kOk:
        appendNumber(value, 4);
        return;
      case Period::kTooBig:
        invalid(type, rd, rn,
                "value " + clipped(std::string(t.view())) + " out of range (0..4294967295)");
      case Period::kInvalid:
        invalid(type, rd, rn,
                "invalid time value '" + clipped(shown(t)) + "' (expected e.g. 3600 or 1h)");
    }
  }

  void appendNumber(uint32_t value, int octets) {
    char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                     static_cast<char>(value >> 8), static_cast<char>(value)};
    rdata_.append(bytes + 4 - octets, static_cast<size_t>(octets));
  }

  const std::string& path_;
  ZoneText* text_;
  ZoneLexer lexer_;

  const std::string_view zone_origin_;
  std::string origin_;  // $ORIGIN, wire
  uint32_t default_ttl_;
  uint64_t origin_generation_ = 0;  // counts $ORIGIN changes
  uint8_t owner_[kNameBuffer];      // the previous owner, then this record's
  size_t owner_len_ = 0;
  char owner_text_[256];  // owner_ as written, when it was written in at most 256 octets
  size_t owner_text_len_ = 0;
  uint64_t owner_origin_ = 0;  // origin_generation_ for owner_text_
  std::string rdata_;
  bool have_soa_ = false;
};

}  // namespace

std::vector<Record> importZoneFile(const std::string& path, std::string_view origin,
                                   uint32_t default_ttl) {
  if (origin.empty()) origin = std::string_view("\0", 1);
  ZoneText text;
  std::string error;
  if (!text.load(path, &error)) {
    Diagnostic d;
    d.where.file = path;
    d.message = std::move(error);
    throw ConfigError(std::move(d));
  }
  std::vector<Record> records;
  // At most one record per line; the estimate only leaves virtual memory unused.
  const size_t lines = countNewlines(text.begin(), text.end()) + 1;
  records.reserve(std::min(lines, text.size() / 4 + 1));
  adviseHugePages(records.data(), records.capacity() * sizeof(Record));
  Reader(path, origin, default_ttl, &text).run(&records);
  return records;
}

}  // namespace understudy::zone
