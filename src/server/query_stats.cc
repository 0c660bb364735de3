#include "understudy/server/query_stats.h"

namespace understudy::server {

namespace {

constexpr const char* kTypeNames[] = {"A",    "NS",   "CNAME", "SOA",   "PTR",  "MX",
                                      "TXT",  "AAAA", "SRV",   "NAPTR", "DS",   "DNSKEY",
                                      "TLSA", "SVCB", "HTTPS", "ANY",   "AXFR", "IXFR"};
static_assert(std::size(kTypeNames) == kCountedTypes.size());

constexpr const char* kRcodeNames[kRcodeBuckets] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "RCODE15",
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE"};

}  // namespace

size_t typeBucket(uint16_t qtype) noexcept {
  for (size_t i = 0; i < kCountedTypes.size(); ++i) {
    if (kCountedTypes[i] == qtype) return i;
  }
  return kCountedTypes.size();
}

const char* typeBucketName(size_t bucket) noexcept {
  return bucket < kCountedTypes.size() ? kTypeNames[bucket] : "other";
}

const char* rcodeName(size_t rcode) noexcept {
  return rcode < kRcodeBuckets ? kRcodeNames[rcode] : "other";
}

QueryTotals QueryStats::totals() const {
  QueryTotals t;
  for (const auto& b : blocks_) {
    for (int p = 0; p < 2; ++p) {
      for (size_t q = 0; q < kTypeBuckets; ++q) {
        for (size_t r = 0; r < kRcodeBuckets; ++r) {
          t.answers[p][q][r] += b->answers[p][q][r].load(std::memory_order_relaxed);
        }
      }
      t.truncated[p] += b->truncated[p].load(std::memory_order_relaxed);
      t.dropped[p] += b->dropped[p].load(std::memory_order_relaxed);
    }
  }
  return t;
}

}  // namespace understudy::server
