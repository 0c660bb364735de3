#include "status.h"

// ldns/common.h #defines bool, true and false unless <stdbool.h> came first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "understudy/dns/name.h"
#include "understudy/query/answer.h"
#include "understudy/version.h"
#include "understudy/zone/record.h"

namespace understudy::control {

namespace {

using Json = nlohmann::ordered_json;

Json timeOrNull(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? Json(rfc3339(*t)) : Json(nullptr);
}

Json endpointJson(const failover::EndpointStatus& e) {
  Json j;
  j["address"] = e.address;
  j["probe_address"] = e.probe_address;
  j["priority"] = e.priority;
  j["check"] = e.check.empty() ? Json(nullptr) : Json(e.check);
  j["state"] = e.state;
  j["serving"] = e.serving;
  j["since"] = timeOrNull(e.since);
  j["reason"] = e.reason;
  if (e.last_outcome.empty()) {
    j["last_probe"] = nullptr;
  } else {
    j["last_probe"] = {{"outcome", e.last_outcome},
                       {"detail", e.last_detail},
                       {"duration_ms", e.last_duration_ms}};
  }
  j["probes"] = e.probes;
  if (e.override) {
    j["override"] = {{"kind", failover::overrideName(e.override->kind)},
                     {"since", rfc3339(e.override->since)},
                     {"expires", timeOrNull(e.override->expires)}};
  } else {
    j["override"] = nullptr;
  }
  return j;
}

Json recordJson(const failover::RecordStatus& r) {
  return {{"name", r.name}, {"type", r.type},       {"answer", r.answer},
          {"why", r.why},   {"changes", r.changes}, {"last_change", timeOrNull(r.last_change)}};
}

// A query for name/type as a client would send it: no EDNS, RD clear.
std::vector<uint8_t> buildQuery(const std::string& wire_name, uint16_t type) {
  std::vector<uint8_t> q(12 + wire_name.size() + 4, 0);
  q[0] = 0x4a;
  q[1] = 0x11;
  q[5] = 1;  // QDCOUNT
  std::copy(wire_name.begin(), wire_name.end(), q.begin() + 12);
  size_t at = 12 + wire_name.size();
  q[at] = static_cast<uint8_t>(type >> 8);
  q[at + 1] = static_cast<uint8_t>(type & 0xff);
  q[at + 3] = 1;  // IN
  return q;
}

std::string rrText(const ldns_rr* rr) {
  char* text = ldns_rr2str(rr);
  if (!text) return "";
  std::string out(text);
  free(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  // ldns separates fields with tabs; one space reads better in JSON and tables.
  for (char& c : out) {
    if (c == '\t') c = ' ';
  }
  return out;
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::ordered_json statusJson(Sources& sources) {
  auto status = sources.status();
  const failover::StatusSnapshot* f = status->failover.get();
  Json j;
  j["version"] = UNDERSTUDY_VERSION;
  j["serial"] = f ? f->serial : 0;
  j["generation"] = sources.snapshots().generation();
  j["reloads"] = {{"ok", status->reloads.ok}, {"failed", status->reloads.failed}};
  j["status_taken"] = f ? Json(rfc3339(f->taken)) : Json(nullptr);
  j["pools"] = Json::array();
  j["orphaned_overrides"] = Json::array();
  if (!f) return j;
  // Overrides on endpoints a reload removed: kept until they expire or are cleared.
  for (const auto& o : f->orphanedOverrides()) {
    j["orphaned_overrides"].push_back({{"pool", o.pool},
                                       {"endpoint", o.address},
                                       {"kind", failover::overrideName(o.override.kind)},
                                       {"since", rfc3339(o.override.since)},
                                       {"expires", timeOrNull(o.override.expires)}});
  }
  // Records grouped by pool in one pass: the page is linear in its size.
  const auto& pools = f->plan().pools;
  std::vector<std::vector<size_t>> records_of(pools.size());
  const auto& records = f->plan().pool_records;
  for (size_t i = 0; i < records.size(); ++i) {
    size_t p = f->index->poolIndex(records[i].pool);
    if (p < pools.size()) records_of[p].push_back(i);
  }
  for (size_t p = 0; p < pools.size(); ++p) {
    Json pool;
    pool["name"] = pools[p].name;
    pool["policy"] = pools[p].policy == config::PoolPolicy::kAll ? "all" : "priority";
    pool["endpoints"] = Json::array();
    for (size_t e = 0; e < pools[p].endpoints.size(); ++e) {
      pool["endpoints"].push_back(endpointJson(f->endpoint(p, e)));
    }
    pool["records"] = Json::array();
    for (size_t i : records_of[p]) pool["records"].push_back(recordJson(f->record(i)));
    j["pools"].push_back(std::move(pool));
  }
  return j;
}

ExplainResult explainJson(Sources& sources, const std::string& name, const std::string& type) {
  ExplainResult result;
  auto bad = [&](std::string error) {
    result.http_status = 400;
    result.body = {{"error", std::move(error)}};
    return result;
  };
  if (name.empty()) return bad("missing parameter 'name'");
  std::string name_error;
  auto wire = dns::nameFromText(name, std::string(1, '\0'), &name_error);
  if (!wire) return bad("invalid name '" + name + "': " + name_error);
  auto qtype = zone::typeFromText(type.empty() ? "A" : type);
  if (!qtype) return bad("invalid type '" + type + "'");

  auto snapshot = sources.snapshots().current();
  if (!snapshot) {
    result.http_status = 503;
    result.body = {{"error", "nothing is being served yet"}};
    return result;
  }
  auto request = buildQuery(*wire, *qtype);
  std::vector<uint8_t> response(query::kMaxResponseSize);
  // TCP: the whole answer, never truncated to 512 bytes.
  size_t size = query::answer(request, snapshot.get(), query::Transport::kTcp, response);
  ldns_pkt* pkt = nullptr;
  if (size == 0 || ldns_wire2pkt(&pkt, response.data(), size) != LDNS_STATUS_OK) {
    result.http_status = 500;
    result.body = {{"error", "the answer engine produced no parsable response"}};
    return result;
  }
  Json j;
  j["name"] = dns::nameToText(*wire);
  j["type"] = zone::typeToText(*qtype);
  const ldns_lookup_table* rcode = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(pkt));
  j["rcode"] = rcode ? rcode->name : "RCODE" + std::to_string(ldns_pkt_get_rcode(pkt));
  j["answer"] = Json::array();
  Json ttl = nullptr;
  const ldns_rr_list* answer = ldns_pkt_answer(pkt);
  for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    j["answer"].push_back(rrText(rr));
    if (ttl.is_null() && ldns_rr_get_type(rr) == *qtype) ttl = ldns_rr_ttl(rr);
  }
  if (ttl.is_null() && ldns_rr_list_rr_count(answer) > 0) {
    ttl = ldns_rr_ttl(ldns_rr_list_rr(answer, 0));
  }
  j["ttl"] = ttl;
  ldns_pkt_free(pkt);

  j["pooled"] = false;
  j["pool"] = nullptr;
  j["why"] = "not a pooled record: answered from the zone data";
  // Only this name's record and its pool are read: the cost does not grow with the number of
  // pools (issue 12).
  auto status = sources.status();
  if (const failover::StatusSnapshot* f = status->failover.get()) {
    if (auto i = f->findRecord(dns::lowered(*wire), *qtype)) {
      failover::RecordStatus record = f->record(*i);
      j["pooled"] = true;
      j["pool"] = record.pool;
      j["why"] = record.why;
      j["serving"] = record.answer;
    }
  }
  result.body = std::move(j);
  return result;
}

}  // namespace understudy::control
