// RFC 1035 §5 master files, read with ldns so operators keep the zone files they already have.
// We drive ldns record by record (as ldns_zone_new_frm_fp_l does internally) instead of loading a
// whole ldns_zone, because that is the only way to learn which line each record came from.
#include "ldns_support.h"  // first: it fixes up ldns/common.h for C++

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/zone/record.h"

namespace understudy::zone {
namespace {

struct FileCloser {
  void operator()(FILE* fp) const { std::fclose(fp); }
};

// For each line (1-based index), whether it can start a record: not blank, not only a comment.
// ldns reports the line a record *ended* on; the operator wants the line it starts on.
std::vector<bool> contentLines(const std::string& text) {
  std::vector<bool> lines{false};  // index 0 unused
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    size_t first = line.find_first_not_of(" \t\r");
    lines.push_back(first != std::string_view::npos && line[first] != ';');
    if (end == text.size()) break;
    pos = end + 1;
  }
  return lines;
}

int startLine(const std::vector<bool>& content, int after) {
  for (size_t i = static_cast<size_t>(after) + 1; i < content.size(); ++i) {
    if (content[i]) return static_cast<int>(i);
  }
  return after + 1;
}

std::string dnameText(const ldns_rdf* rdf) {
  detail::CString text(ldns_rdf2str(rdf));
  return text ? std::string(text.get()) : std::string("?");
}

}  // namespace

std::vector<Record> importZoneFile(const std::string& path, std::string_view origin,
                                   uint32_t default_ttl) {
  auto error = [&](int line, std::string message) {
    Diagnostic d;
    d.where.file = path;
    d.where.line = line;
    d.message = std::move(message);
    return ConfigError(std::move(d));
  };

  std::unique_ptr<FILE, FileCloser> fp(std::fopen(path.c_str(), "r"));
  if (!fp) throw error(0, std::string("cannot open zone file: ") + std::strerror(errno));
  std::string text;
  char chunk[8192];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, fp.get())) > 0) text.append(chunk, got);
  if (std::ferror(fp.get())) {
    throw error(0, std::string("cannot read zone file: ") + std::strerror(errno));
  }
  std::rewind(fp.get());
  const std::vector<bool> content = contentLines(text);

  // ldns replaces these on $ORIGIN and on records with a blank owner; like
  // ldns_zone_new_frm_fp_l, a leading blank owner means the origin.
  detail::RdfPtr zone_origin = detail::dnameFromWire(origin);
  ldns_rdf* current_origin = ldns_rdf_clone(zone_origin.get());
  ldns_rdf* previous_owner = ldns_rdf_clone(zone_origin.get());
  auto free_state = [&] {
    ldns_rdf_deep_free(current_origin);
    ldns_rdf_deep_free(previous_owner);
  };

  std::vector<Record> records;
  bool have_soa = false;
  uint32_t ttl = default_ttl;
  int line_nr = 0;  // ldns counts the newlines it has consumed
  int previous_end = 0;
  try {
    while (!std::feof(fp.get())) {
      const int line = startLine(content, previous_end);
      ldns_rr* raw = nullptr;
      ldns_status status =
          ldns_rr_new_frm_fp_l(&raw, fp.get(), &ttl, &current_origin, &previous_owner, &line_nr);
      detail::RrPtr rr(raw);
      previous_end = std::max(previous_end, line_nr);
      switch (status) {
        case LDNS_STATUS_OK:
          break;
        case LDNS_STATUS_SYNTAX_EMPTY:
        case LDNS_STATUS_SYNTAX_TTL:
        case LDNS_STATUS_SYNTAX_ORIGIN:
          continue;
        case LDNS_STATUS_SYNTAX_INCLUDE:
          throw error(line, "$INCLUDE is not supported");
        default:
          throw error(line, ldns_get_errorstr_by_id(status));
      }
      if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
        detail::CString klass(ldns_rr_class2str(ldns_rr_get_class(rr.get())));
        throw error(line, "class " + std::string(klass ? klass.get() : "?") +
                              " is not supported (only IN)");
      }
      if (ldns_rr_get_type(rr.get()) == LDNS_RR_TYPE_SOA) {
        // RFC 1035 §5.2: exactly one SOA, at the top of the zone.
        if (have_soa) throw error(line, "more than one SOA record");
        if (ldns_dname_compare(ldns_rr_owner(rr.get()), zone_origin.get()) != 0) {
          throw error(line, "SOA record owner '" + dnameText(ldns_rr_owner(rr.get())) +
                                "' is not the zone apex '" + dnameText(zone_origin.get()) + "'");
        }
        have_soa = true;
      }
      auto rdata = detail::rdataWire(rr.get());
      if (!rdata) throw error(line, "cannot convert record to wire format");
      Record record;
      record.owner = detail::rdfData(ldns_rr_owner(rr.get()));
      record.type = static_cast<uint16_t>(ldns_rr_get_type(rr.get()));
      record.ttl = ldns_rr_ttl(rr.get());
      record.rdata = std::move(*rdata);
      record.where = SourceLocation{path, line, 0};
      records.push_back(std::move(record));
    }
  } catch (...) {
    free_state();
    throw;
  }
  free_state();
  return records;
}

}  // namespace understudy::zone
