#include "understudy/failover/monitor.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "understudy/dns/name.h"

namespace understudy::failover {

namespace {

std::string describeDecision(const Decision& d) {
  std::string addresses;
  for (const auto& a : d.addresses) addresses += (addresses.empty() ? "" : ", ") + a;
  if (addresses.empty()) addresses = "nothing";
  switch (d.kind) {
    case Decision::Kind::kPrimary:
      return addresses + " (primary, ttl " + std::to_string(d.ttl) + ")";
    case Decision::Kind::kFailover:
      return addresses + " (failed over" +
             (d.tier ? " to priority " + std::to_string(d.tier) : std::string()) + ", ttl " +
             std::to_string(d.ttl) + ")";
    case Decision::Kind::kAllDown:
      return addresses + " (all endpoints down, ttl " + std::to_string(d.ttl) + ")";
  }
  return addresses;
}

bool sameDecision(const Decision& a, const Decision& b) {
  return a.kind == b.kind && a.addresses == b.addresses && a.ttl == b.ttl;
}

}  // namespace

Monitor::Monitor(health::TimerService& timers, health::Prober& prober,
                 std::shared_ptr<const config::Config> config,
                 std::shared_ptr<const zone::Snapshot> base, zone::SnapshotHolder& holder,
                 uint64_t seed)
    : config_(std::move(config)),
      holder_(holder),
      controller_(config_, std::move(base)),
      scheduler_(
          timers, prober,
          [this](size_t target, const health::Outcome& outcome) { onResult(target, outcome); },
          seed) {
  for (const auto& target : controller_.targets()) {
    trackers_.emplace_back(target.check.rise, target.check.fall);
    scheduler_.add(target);
  }
}

void Monitor::start() {
  scheduler_.start();
}

size_t Monitor::adoptStateFrom(const Monitor& old) {
  const auto& mine = controller_.targets();
  const auto& theirs = old.controller_.targets();
  size_t fresh = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    bool adopted = false;
    for (size_t j = 0; j < theirs.size(); ++j) {
      if (mine[i] == theirs[j]) {
        trackers_[i] = old.trackers_[j];
        controller_.setUp(i, old.controller_.isUp(j));
        adopted = true;
        break;
      }
    }
    fresh += !adopted;
  }
  decisions_.clear();  // record indices may differ between configs: compare from here on
  serial_ = old.serial_;
  transitions_ = old.transitions_;
  return fresh;
}

std::chrono::milliseconds Monitor::longestTimeout() const {
  std::chrono::milliseconds longest{0};
  for (const auto& t : controller_.targets()) longest = std::max(longest, t.check.timeout);
  return longest;
}

size_t Monitor::upCount() const {
  size_t n = 0;
  for (size_t i = 0; i < trackers_.size(); ++i) n += controller_.isUp(i);
  return n;
}

std::string Monitor::poolsOf(size_t target) const {
  std::string out;
  for (const auto& ref : controller_.endpointsOf(target)) {
    const auto& pool = config_->pools[ref.pool];
    if (!out.empty()) out += ", ";
    out += pool.name + "/" + pool.endpoints[ref.endpoint].address;
  }
  return out;
}

void Monitor::publish() {
  // `serial: auto`: every publish is a change secondaries and monitors should see. Unix time keeps
  // it increasing across restarts; +1 keeps it increasing within a second (RFC 1982 arithmetic
  // is not needed until 2106).
  uint32_t now = unix_time ? unix_time() : static_cast<uint32_t>(std::time(nullptr));
  serial_ = std::max(serial_ + 1, now);
  std::vector<Decision> decisions;
  auto snapshot = controller_.render(&decisions, serial_);
  if (publishing_) {
    // Say what changed in the answers, once per pooled record that changed.
    for (size_t i = 0; i < decisions.size() && i < decisions_.size(); ++i) {
      if (sameDecision(decisions[i], decisions_[i])) continue;
      const auto& rec = config_->pool_records[i];
      spdlog::warn("answer {} {} from pool {}: {} -> {}", dns::nameToText(rec.owner),
                   rec.type == 28 ? "AAAA" : "A", rec.pool, describeDecision(decisions_[i]),
                   describeDecision(decisions[i]));
    }
  }
  decisions_ = std::move(decisions);
  publishing_ = true;
  holder_.publish(std::move(snapshot));
  if (on_publish) on_publish();
}

void Monitor::onResult(size_t target, const health::Outcome& outcome) {
  health::Tracker& tracker = trackers_[target];
  health::State before = tracker.state();
  const health::ProbeTarget& t = controller_.targets()[target];
  health::Transition transition = tracker.record(outcome, t.check);
  if (transition == health::Transition::kUnchanged) return;
  bool up = tracker.state() == health::State::kUp;
  if (before == health::State::kUnknown) {
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
  if (controller_.isUp(target) == up) return;
  controller_.setUp(target, up);
  if (publishing_) publish();
}

}  // namespace understudy::failover
