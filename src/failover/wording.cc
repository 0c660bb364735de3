#include "understudy/failover/wording.h"

#include <ctime>

#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

namespace understudy::failover {

std::string clockTime(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

std::string describeDecision(const Decision& d) {
  std::string addresses;
  for (const auto& a : d.addresses) {
    if (!addresses.empty()) addresses += ", ";
    addresses += a;
  }
  if (addresses.empty()) addresses = "nothing";
  std::string out = addresses;
  switch (d.kind) {
    case Decision::Kind::kPrimary:
      out += " (primary, ttl ";
      break;
    case Decision::Kind::kFailover:
      out += " (failed over";
      if (d.tier) {
        out += " to priority ";
        out += std::to_string(d.tier);
      }
      out += ", ttl ";
      break;
    case Decision::Kind::kAllDown:
      out += " (all endpoints down, ttl ";
      break;
  }
  out += std::to_string(d.ttl);
  out += ")";
  return out;
}

std::string describeRecord(const std::string& owner, uint16_t type) {
  std::string out = dns::nameToText(owner);
  out += type == dns::rrtype::kAaaa ? " AAAA" : " A";
  return out;
}

std::string describeOverride(const std::string& pool, const std::string& address,
                             const Override& o) {
  std::string text = overrideName(o.kind);
  text += " on ";
  text += pool;
  text += "/";
  text += address;
  text += " until ";
  text += o.expires ? clockTime(*o.expires) : std::string("cleared");
  return text;
}

}  // namespace understudy::failover
