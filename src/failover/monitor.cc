#include "understudy/failover/monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "understudy/common/duration.h"
#include "understudy/dns/name.h"
#include "understudy/failover/wording.h"

namespace understudy::failover {

namespace {

bool sameDecision(const Decision& a, const Decision& b) {
  return a.kind == b.kind && a.addresses == b.addresses && a.ttl == b.ttl;
}

}  // namespace

Monitor::Monitor(health::TimerService& timers, health::Prober& prober,
                 std::shared_ptr<const Plan> plan, std::shared_ptr<const zone::Snapshot> base,
                 zone::SnapshotHolder& holder, uint64_t seed,
                 std::shared_ptr<OverrideStore> overrides)
    : timers_(timers),
      plan_(std::move(plan)),
      holder_(holder),
      overrides_(overrides ? std::move(overrides) : std::make_shared<OverrideStore>()),
      controller_(plan_, std::move(base), overrides_),
      scheduler_(
          timers, prober,
          [this](size_t target, const health::Outcome& outcome) { onResult(target, outcome); },
          seed) {
  for (const auto& target : controller_.targets()) {
    trackers_.emplace_back(target.check.rise, target.check.fall);
    since_.emplace_back();
    scheduler_.add(target);
  }
  record_changes_.assign(plan_->pool_records.size(), 0);
  record_changed_at_.assign(plan_->pool_records.size(), std::nullopt);
  status_index_ = std::make_shared<const StatusIndex>(plan_, controller_.targets(),
                                                      controller_.endpointTargets());
}

Monitor::~Monitor() {
  *alive_ = false;
}

void Monitor::start() {
  scheduler_.start();
  expiryTick();
  statusTick();
}

std::shared_ptr<const StatusSnapshot> Monitor::status() const {
  auto s = std::make_shared<StatusSnapshot>();
  s->index = status_index_;
  s->targets.reserve(trackers_.size());
  for (size_t i = 0; i < trackers_.size(); ++i) {
    s->targets.push_back(TargetStatus{trackers_[i], since_[i], controller_.isUp(i)});
  }
  s->serving.reserve(status_index_->endpointCount());
  for (size_t p = 0; p < plan_->pools.size(); ++p) {
    for (size_t e = 0; e < plan_->pools[p].endpoints.size(); ++e) {
      s->serving.push_back(controller_.effectiveUp(p, e) ? 1 : 0);
    }
  }
  s->overrides = overrides_->all();
  s->decisions = decisions_;
  s->record_changes = record_changes_;
  s->record_changed_at = record_changed_at_;
  s->pool_stats = pool_stats_;
  s->serial = serial_;
  s->transitions = transitions_;
  s->not_run = not_run_;
  s->taken = now();
  return s;
}

void Monitor::sendStatus() {
  status_dirty_ = false;
  if (on_status) on_status(status());
}

void Monitor::statusChanged(bool urgent) {
  status_dirty_ = true;
  if (!urgent || status_posted_ || !on_status) return;
  // Transitions that arrive together (one backend feeding many pools, a burst of results) cost
  // one copy, sent once the handlers already queued have run.
  status_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  timers_.callAt(timers_.now(), [this, alive] {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    status_posted_ = false;
    if (status_dirty_) sendStatus();
  });
}

// Counters (probe counts, the last probe of each target) move with every probe; a copy of them
// goes out at most every kStatusInterval, so a status reader costs the health thread nothing
// and the health thread spends a bounded share of its time copying.
void Monitor::statusTick() {
  if (status_dirty_ && on_status) sendStatus();
  std::weak_ptr<bool> alive = alive_;
  timers_.callAt(timers_.now() + kStatusInterval, [this, alive] {
    auto guard = alive.lock();
    if (guard && *guard) statusTick();
  });
}

// Overrides with an expiry lapse on their own; a one-second tick is precise enough for "drain for
// 10m" and costs nothing.
void Monitor::expiryTick() {
  auto gone = overrides_->expire(now());
  for (const auto& [key, o] : gone) {
    spdlog::warn("override {} on {}/{} expired", overrideName(o.kind), key.first, key.second);
    markPoolDirty(key.first);
  }
  if (!gone.empty() && publishing_) publish();
  if (!gone.empty()) statusChanged(true);
  std::weak_ptr<bool> alive = alive_;
  timers_.callAt(timers_.now() + std::chrono::seconds(1), [this, alive] {
    auto guard = alive.lock();
    if (guard && *guard) expiryTick();
  });
}

size_t Monitor::adoptStateFrom(const Monitor& old) {
  const auto& mine = controller_.targets();
  // One lookup per target in the old controller's index, built with it (a reload of 10,000
  // targets compared every pair before).
  size_t fresh = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    std::optional<size_t> found = old.controller_.findTarget(mine[i]);
    if (!found) {
      ++fresh;
      continue;
    }
    const size_t j = *found;
    scheduler_.resumeFrom(i, old.scheduler_, j);
    trackers_[i] = old.trackers_[j];
    since_[i] = old.since_[j];
    controller_.setUp(i, old.controller_.isUp(j));
  }
  decisions_.clear();  // record indices may differ between configs: compare from here on
  serial_ = old.serial_;
  serial_by_origin_ = old.serial_by_origin_;
  transitions_ = old.transitions_;
  pool_stats_ = old.pool_stats_;
  not_run_ = old.not_run_;
  logOrphanedOverrides(old);
  status_dirty_ = true;
  return fresh;
}

// Once per reload: which overrides this configuration orphans (kept, listed, expiring as set)
// and which orphans it takes back.
void Monitor::logOrphanedOverrides(const Monitor& old) const {
  auto describe = [](const OrphanedOverride& o) {
    return describeOverride(o.pool, o.address, o.override);
  };
  auto orphans = orphanedOverrides();
  if (!orphans.empty()) {
    std::string list;
    for (const auto& o : orphans) {
      if (!list.empty()) list += ", ";
      list += describe(o);
    }
    spdlog::warn(
        "reload: {} override(s) on endpoints no longer in the configuration are kept until they "
        "expire or are cleared (ctl clear POOL ENDPOINT), and apply again if the endpoint comes "
        "back: {}",
        orphans.size(), list);
  }
  for (const auto& o : old.orphanedOverrides()) {
    if (overrides_->find(o.pool, o.address) == nullptr) continue;
    bool still = false;
    for (const auto& n : orphans) still = still || (n.pool == o.pool && n.address == o.address);
    if (!still) {
      spdlog::warn("reload: {}/{} is back in the configuration; its override applies again: {}",
                   o.pool, o.address, describe(o));
    }
  }
}

std::vector<OrphanedOverride> Monitor::orphanedOverrides() const {
  std::vector<OrphanedOverride> out;
  for (const auto& [key, o] : overrides_->all()) {
    const PoolSpec* pool = status_index_->findPool(key.first);
    bool found = false;
    if (pool) {
      for (const auto& e : pool->endpoints) found = found || e.address == key.second;
    }
    if (!found) out.push_back(OrphanedOverride{key.first, key.second, o});
  }
  return out;
}

std::chrono::milliseconds Monitor::longestTimeout() const {
  std::chrono::milliseconds longest{0};
  for (const auto& t : controller_.targets()) longest = std::max(longest, t.check.timeout);
  size_t cap = scheduler_.maxInFlight();
  size_t waves = (controller_.targets().size() + cap - 1) / cap;
  return longest * static_cast<int64_t>(std::max<size_t>(waves, 1));
}

size_t Monitor::upCount() const {
  size_t n = 0;
  for (size_t i = 0; i < trackers_.size(); ++i) n += controller_.isUp(i);
  return n;
}

std::vector<std::string> Monitor::endpointsOf(size_t target) const {
  std::vector<std::string> out;
  for (const auto& ref : controller_.endpointsOf(target)) {
    const auto& pool = plan_->pools[ref.pool];
    out.push_back(pool.name + "/" + pool.endpoints[ref.endpoint].address);
  }
  return out;
}

std::string Monitor::poolsOf(size_t target) const {
  std::string out;
  for (const auto& e : endpointsOf(target)) out += (out.empty() ? "" : ", ") + e;
  return out;
}

namespace {

// The SERIAL field of an SOA RRset's first record (RFC 1035 §3.3.13: 20 octets from the end).
uint32_t soaSerial(const zone::Rrset& soa) {
  if (soa.rdatas.empty()) return 0;
  std::string_view rdata = soa.rdatas.front();
  if (rdata.size() < 20) return 0;
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(rdata[i])); };
  size_t at = rdata.size() - 20;
  return byte(at) << 24 | byte(at + 1) << 16 | byte(at + 2) << 8 | byte(at + 3);
}

}  // namespace

void Monitor::markPoolDirty(const std::string& pool) {
  size_t p = status_index_->poolIndex(pool);
  if (p < plan_->pools.size()) markDirty(controller_.recordsOfPool(p));
}

void Monitor::markDirty(const std::vector<size_t>& records) {
  dirty_.insert(dirty_.end(), records.begin(), records.end());
}

// Transitions decided in the same turn of the loop (one backend feeding many pools, a burst of
// results) are published together, once.
void Monitor::schedulePublish() {
  if (publish_posted_) return;
  publish_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  timers_.callAt(timers_.now(), [this, alive] {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    publish_posted_ = false;
    if (!dirty_.empty()) publish();
  });
}

void Monitor::publish() {
  // The first publish of a configuration renders everything; after that only the records whose
  // endpoints changed (dirty_), and only zones whose content changed get a new serial.
  const bool full = !publishing_;
  const auto& zones = controller_.base()->zones();
  std::vector<size_t> records;
  if (full) {
    records.resize(plan_->pool_records.size());
    for (size_t i = 0; i < records.size(); ++i) records[i] = i;
  } else {
    records.swap(dirty_);
    std::sort(records.begin(), records.end());
    records.erase(std::unique(records.begin(), records.end()), records.end());
  }
  dirty_.clear();
  if (decisions_.size() != plan_->pool_records.size()) {
    decisions_.assign(plan_->pool_records.size(), Decision{});
  }
  if (zone_serials_.size() != zones.size()) {
    zone_serials_.resize(zones.size());
    for (size_t z = 0; z < zones.size(); ++z) {
      auto carried = serial_by_origin_.find(zones[z]->origin);
      zone_serials_[z] =
          carried != serial_by_origin_.end() ? carried->second : soaSerial(*zones[z]->soa);
    }
  }

  auto rerendered = controller_.rerender(records);
  std::vector<bool> zone_changed(zones.size(), full);
  std::vector<bool> zone_rendered(zones.size(), false);  // has a record rendered just now
  for (const auto& c : rerendered) {
    const size_t i = c.record;
    if (controller_.zoneOf(i) < zones.size()) zone_rendered[controller_.zoneOf(i)] = true;
    const bool changed = !sameDecision(c.after, decisions_[i]);
    if (c.content_changed && controller_.zoneOf(i) < zones.size()) {
      zone_changed[controller_.zoneOf(i)] = true;
    }
    if (changed && publishing_) {
      const auto& rec = plan_->pool_records[i];
      std::string record = describeRecord(rec.owner, rec.type);
      std::string from = describeDecision(decisions_[i]);
      std::string to = describeDecision(c.after);
      spdlog::warn("answer {} from pool {}: {} -> {}", record, rec.pool, from, to);
      ++record_changes_[i];
      record_changed_at_[i] = now();
      PoolStats& ps = pool_stats_[rec.pool];
      ++ps.transitions;
      ps.last_transition = now();
      if (events) {
        events->onAnswer(AnswerEvent{now(), record, rec.pool, from, to,
                                     c.after.kind != Decision::Kind::kPrimary,
                                     c.after.kind == Decision::Kind::kAllDown});
      }
    }
    decisions_[i] = c.after;
  }

  // `serial: auto`: a zone whose content changed gets a new serial. Unix time keeps it rising
  // across restarts; +1 keeps it rising within a second.
  ChangeSet changes;
  changes.full = full;
  auto unix_now = static_cast<uint32_t>(std::chrono::system_clock::to_time_t(now()) & 0xffffffff);
  std::vector<size_t> change_of_zone(zones.size(), std::string::npos);
  for (size_t z = 0; z < zones.size(); ++z) {
    if (!zone_changed[z]) continue;
    const bool auto_serial = zones[z]->serial_slot >= 0;
    if (!auto_serial && !zone_rendered[z]) continue;  // a full publish, nothing pooled here
    ZoneChange zc;
    zc.origin = zones[z]->origin;
    zc.old_serial = zone_serials_[z];
    if (auto_serial) {
      zone_serials_[z] = std::max(zone_serials_[z] + 1, unix_now);
      controller_.stampSerial(z, zone_serials_[z]);
      serial_ = std::max(serial_, zone_serials_[z]);
      serial_by_origin_[zones[z]->origin] = zone_serials_[z];
    }
    zc.new_serial = zone_serials_[z];
    change_of_zone[z] = changes.zones.size();
    changes.zones.push_back(std::move(zc));
  }
  for (auto& c : rerendered) {
    if (!c.content_changed && !full) continue;
    const size_t z = controller_.zoneOf(c.record);
    if (z >= zones.size() || change_of_zone[z] == std::string::npos) continue;
    const auto& rec = plan_->pool_records[c.record];
    changes.zones[change_of_zone[z]].rrsets.push_back(
        RrsetChange{rec.owner, rec.type, std::move(c.old_rrset), controller_.rendered(c.record)});
  }

  publishing_ = true;
  statusChanged(true);
  // Nothing served changed: no new snapshot, no serial. (The first publish always goes out: it
  // is what starts serving.)
  if (changes.zones.empty() && !full) return;
  for (const auto& zc : changes.zones) {
    spdlog::debug("publish: zone {} serial {} -> {}, {} pooled RRset(s) changed",
                  dns::nameToText(zc.origin), zc.old_serial, zc.new_serial, zc.rrsets.size());
  }
  holder_.publish(controller_.snapshot());
  ++publishes_;
  if (on_change_set) on_change_set(changes);
  if (on_publish) on_publish();
}

void Monitor::onNotRun(size_t target, const health::Outcome& outcome) {
  constexpr std::chrono::seconds kNotRunLogInterval{10};
  ++not_run_;
  const health::SteadyTime now = timers_.now();
  if (not_run_logged_ && now - *not_run_logged_ < kNotRunLogInterval) {
    ++not_run_unlogged_;
    return;
  }
  const health::ProbeTarget& t = controller_.targets()[target];
  std::string more = not_run_unlogged_ == 0 ? std::string()
                                            : "; " + std::to_string(not_run_unlogged_) +
                                                  " more probe(s) not run since the last such line";
  spdlog::warn("{} for {} [{}]: a local failure, health state unchanged{}",
               outcome.describe(t.check), t.label(), poolsOf(target), more);
  not_run_logged_ = now;
  not_run_unlogged_ = 0;
}

void Monitor::onResult(size_t target, const health::Outcome& outcome) {
  health::Tracker& tracker = trackers_[target];
  if (outcome.kind == health::OutcomeKind::kNotRun) {
    // Counted for /metrics, never judged: this host failed, not the backend.
    tracker.record(outcome, controller_.targets()[target].check);
    onNotRun(target, outcome);
    statusChanged(false);
    return;
  }
  health::State before = tracker.state();
  const health::ProbeTarget& t = controller_.targets()[target];
  health::Transition transition = tracker.record(outcome, t.check);
  if (transition == health::Transition::kUnchanged) {
    statusChanged(false);
    return;
  }
  statusChanged(true);
  bool up = tracker.state() == health::State::kUp;
  since_[target] = now();
  bool initial = before == health::State::kUnknown;
  if (initial) {
    // The first measurement is not a failover; still, a target down from the start deserves
    // attention.
    if (up) {
      spdlog::info("health {} [{}]: up at start ({})", t.label(), poolsOf(target),
                   tracker.reason());
    } else {
      spdlog::warn("health {} [{}]: down at start ({})", t.label(), poolsOf(target),
                   tracker.reason());
    }
  } else {
    ++transitions_;
    spdlog::warn("health {} [{}]: {} -> {} ({})", t.label(), poolsOf(target),
                 health::stateName(before), health::stateName(tracker.state()), tracker.reason());
  }
  if (events) {
    events->onHealth(HealthEvent{now(), t.label(), t.check.name, t.address, endpointsOf(target),
                                 health::stateName(before), health::stateName(tracker.state()),
                                 tracker.reason(), initial});
  }
  if (controller_.isUp(target) == up) return;
  controller_.setUp(target, up);
  if (!publishing_) return;
  markDirty(controller_.recordsUsing(target));
  schedulePublish();
}

bool Monitor::setOverride(const std::string& pool, const std::string& address, OverrideKind kind,
                          std::optional<std::chrono::seconds> duration, std::string* error) {
  const PoolSpec* p = plan_->findPool(pool);
  if (!p) {
    if (error) *error = "no pool '" + pool + "'";
    return false;
  }
  bool found = false;
  for (const auto& e : p->endpoints) found = found || e.address == address;
  if (!found) {
    if (error) *error = "pool '" + pool + "' has no endpoint " + address;
    return false;
  }
  Override o;
  o.kind = kind;
  o.since = now();
  if (duration) o.expires = o.since + *duration;
  overrides_->set(pool, address, o);
  spdlog::warn("override {} on {}/{}{}", overrideName(kind), pool, address,
               duration ? " for " + durationText(*duration) : std::string(" until cleared"));
  markPoolDirty(pool);
  if (publishing_) publish();
  statusChanged(true);
  return true;
}

bool Monitor::clearOverride(const std::string& pool, const std::string& address,
                            std::string* error) {
  const Override* o = overrides_->find(pool, address);
  if (!o) {
    if (error) *error = "no override on " + pool + "/" + address;
    return false;
  }
  std::string kind = overrideName(o->kind);
  overrides_->clear(pool, address);
  spdlog::warn("override {} on {}/{} cleared", kind, pool, address);
  markPoolDirty(pool);
  if (publishing_) publish();
  statusChanged(true);
  return true;
}

OverrideChangeResult Monitor::change(const OverrideChange& c) {
  OverrideChangeResult result;
  const size_t p = status_index_->poolIndex(c.pool);
  const PoolSpec* pool = p < plan_->pools.size() ? &plan_->pools[p] : nullptr;
  size_t e = pool ? pool->endpoints.size() : 0;
  if (pool) {
    for (size_t i = 0; i < pool->endpoints.size(); ++i) {
      if (pool->endpoints[i].address == c.address) e = i;
    }
  }
  const bool exists = pool && e < pool->endpoints.size();
  // An override on an endpoint a reload removed can still be cleared (only cleared).
  const bool orphaned = !exists && !c.kind && overrides_->find(c.pool, c.address) != nullptr;
  if (!exists && !orphaned) {
    result.result = OverrideChangeResult::Result::kNotFound;
    result.message =
        pool ? "pool '" + c.pool + "' has no endpoint " + c.address : "no pool '" + c.pool + "'";
    return result;
  }
  std::string why;
  if (c.kind) {
    setOverride(c.pool, c.address, *c.kind, c.duration, &why);  // exists: cannot fail
  } else if (!clearOverride(c.pool, c.address, &why)) {
    // Clearing what is not there is not an error: the endpoint is in the state asked for.
    result.result = OverrideChangeResult::Result::kNothingToClear;
    result.message = why;
  }
  if (exists) result.serving = controller_.effectiveUp(p, e);
  if (const Override* o = overrides_->find(c.pool, c.address)) result.override = *o;
  // Read your writes: the status copy that shows this change goes out before the answer does,
  // so `ctl clear` followed by `ctl status` never shows the override still there.
  if (status_dirty_ && on_status) sendStatus();
  return result;
}

}  // namespace understudy::failover
