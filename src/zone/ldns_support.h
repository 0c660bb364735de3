// Private helpers shared by rdata.cc and zone_file.cc: ownership wrappers for ldns objects (so
// every early return frees what ldns allocated) and conversions between ldns and our wire strings.
#pragma once

// ldns/common.h #defines bool, true and false unless <stdbool.h> came first, which breaks the
// C++ standard headers included after it (std::optional's operator<=> among them).
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::zone::detail {

struct LdnsRrDeleter {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
struct LdnsRdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
struct LdnsBufferDeleter {
  void operator()(ldns_buffer* buffer) const { ldns_buffer_free(buffer); }
};
struct MallocDeleter {
  void operator()(char* p) const { std::free(p); }
};

using RrPtr = std::unique_ptr<ldns_rr, LdnsRrDeleter>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfDeleter>;
using BufferPtr = std::unique_ptr<ldns_buffer, LdnsBufferDeleter>;
using CString = std::unique_ptr<char, MallocDeleter>;

// A wire name as an ldns dname; an empty string means the root.
inline RdfPtr dnameFromWire(std::string_view wire) {
  if (wire.empty()) wire = std::string_view("\0", 1);
  return RdfPtr(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, wire.size(), wire.data()));
}

inline std::string rdfData(const ldns_rdf* rdf) {
  return std::string(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
}

// The RDATA of `rr` in uncompressed wire format with the case of names kept. Compressing the
// names of the RFC 1035 types, where RFC 3597 §4 allows it, is the answer builder's business.
inline std::optional<std::string> rdataWire(const ldns_rr* rr) {
  BufferPtr buffer(ldns_buffer_new(512));
  if (!buffer) return std::nullopt;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (ldns_rdf2buffer_wire(buffer.get(), ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK) {
      return std::nullopt;
    }
  }
  if (!ldns_buffer_status_ok(buffer.get())) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(ldns_buffer_begin(buffer.get())),
                     ldns_buffer_position(buffer.get()));
}

}  // namespace understudy::zone::detail
