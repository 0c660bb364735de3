// RR type mnemonics and RDATA presentation format, delegated to ldns so that every type ldns
// knows (including RFC 3597 "\# len hex" for the ones it does not) is accepted in YAML records.
#include "ldns_support.h"  // first: it fixes up ldns/common.h for C++

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/zone/record.h"

namespace understudy::zone {
namespace {

bool iequalsPrefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool allDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// ldns accepts an opening quote without its closing one ('"abc' becomes "abc") and a '(' that is
// never closed; an operator who wrote that almost certainly lost part of the data, so refuse it.
std::optional<std::string> delimiterError(std::string_view text) {
  bool quoted = false;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (quoted) {
      continue;
    } else if (c == ';') {
      // A comment runs to the end of the line (RFC 1035 §5.1); a value may span lines.
      size_t newline = text.find('\n', i);
      if (newline == std::string_view::npos) break;
      i = newline;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth < 0) {
      return "unbalanced parentheses";
    }
  }
  if (quoted) return "unterminated quoted string";
  if (depth != 0) return "unbalanced parentheses";
  return std::nullopt;
}

// ldns parses 8/16/32-bit fields with strtol and silently truncates ("MX 99999 mail" becomes
// preference 34463). When the text is a plain list of tokens, one per field, check the numeric
// fields ourselves. Texts with quotes, escapes or parentheses are left to ldns alone.
std::optional<std::string> integerRangeError(const ldns_rr* rr, std::string_view text) {
  size_t end = text.find(';');
  if (end != std::string_view::npos) text = text.substr(0, end);
  if (text.find_first_of("\"\\()") != std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    size_t start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos > start) tokens.push_back(text.substr(start, pos - start));
  }
  if (tokens.size() != ldns_rr_rd_count(rr)) return std::nullopt;
  for (size_t i = 0; i < tokens.size(); ++i) {
    uint64_t max = 0;
    switch (ldns_rdf_get_type(ldns_rr_rdf(rr, i))) {
      case LDNS_RDF_TYPE_INT8:
        max = 0xff;
        break;
      case LDNS_RDF_TYPE_INT16:
        max = 0xffff;
        break;
      case LDNS_RDF_TYPE_INT32:
        max = 0xffffffff;
        break;
      default:
        continue;
    }
    // Mnemonics (some INT8 fields take algorithm names) are ldns's business.
    if (!allDigits(tokens[i])) continue;
    bool too_big = tokens[i].size() > 10;
    if (!too_big) too_big = std::stoull(std::string(tokens[i])) > max;
    if (too_big) {
      return "integer " + std::string(tokens[i]) + " out of range (0.." + std::to_string(max) + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint16_t> typeFromText(std::string_view text) {
  // "TYPEnnn" (RFC 3597 §5) is handled here so the range check is ours: ldns happily returns
  // 70000 truncated to an enum.
  if (iequalsPrefix(text, "TYPE") && allDigits(text.substr(4))) {
    std::string_view digits = text.substr(4);
    if (digits.size() > 5) return std::nullopt;
    unsigned long value = std::stoul(std::string(digits));
    if (value == 0 || value > 0xffff) return std::nullopt;
    return static_cast<uint16_t>(value);
  }
  if (text.empty() || text.size() > 32) return std::nullopt;
  std::string name(text);
  ldns_rr_type type = ldns_get_rr_type_by_name(name.c_str());
  if (type == 0 || static_cast<unsigned>(type) > 0xffff) return std::nullopt;
  return static_cast<uint16_t>(type);
}

std::string typeToText(uint16_t type) {
  detail::CString text(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
  if (!text) return "TYPE" + std::to_string(type);
  return std::string(text.get());
}

std::optional<std::string> parseRdata(uint16_t type, std::string_view text, std::string_view origin,
                                      std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::string> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  const std::string type_text = typeToText(type);
  auto invalid = [&](const std::string& reason) {
    if (type == LDNS_RR_TYPE_A) return fail("not a valid IPv4 address '" + std::string(text) + "'");
    if (type == LDNS_RR_TYPE_AAAA) {
      return fail("not a valid IPv6 address '" + std::string(text) + "'");
    }
    return fail("invalid " + type_text + " data '" + std::string(text) + "': " + reason);
  };

  if (text.find('\0') != std::string_view::npos) return invalid("NUL character in text");
  if (auto delimiters = delimiterError(text)) return invalid(*delimiters);

  // The owner is irrelevant; ldns needs one to parse a whole RR, and the origin completes
  // relative names inside the RDATA.
  const std::string rr_text = ". 0 IN " + type_text + " " + std::string(text);
  detail::RdfPtr origin_rdf = detail::dnameFromWire(origin);
  if (!origin_rdf) return fail("out of memory");
  ldns_rr* raw = nullptr;
  ldns_rdf* prev = nullptr;
  ldns_status status = ldns_rr_new_frm_str(&raw, rr_text.c_str(), 0, origin_rdf.get(), &prev);
  detail::RdfPtr prev_owner(prev);
  detail::RrPtr rr(raw);
  if (status != LDNS_STATUS_OK) return invalid(ldns_get_errorstr_by_id(status));
  if (!rr || ldns_rr_get_type(rr.get()) != type) return invalid("type mismatch");
  if (auto range = integerRangeError(rr.get(), text)) return invalid(*range);

  auto wire = detail::rdataWire(rr.get());
  if (!wire) return invalid("cannot convert to wire format");
  if (wire->size() > 0xffff) return invalid("RDATA longer than 65535 octets");
  return wire;
}

}  // namespace understudy::zone
