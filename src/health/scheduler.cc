#include "understudy/health/scheduler.h"

namespace understudy::health {

Scheduler::Scheduler(TimerService& timers, Prober& prober, OnResult on_result, uint64_t seed)
    : timers_(timers), prober_(prober), on_result_(std::move(on_result)), random_(seed) {}

Scheduler::~Scheduler() {
  *alive_ = false;
}

size_t Scheduler::add(ProbeTarget target) {
  auto slot = std::make_unique<Slot>();
  slot->target = std::move(target);
  slots_.push_back(std::move(slot));
  size_t i = slots_.size() - 1;
  if (started_) launch(i);  // a target added later gets its own first probe at once
  return i;
}

void Scheduler::remove(size_t i) {
  Slot& s = *slots_[i];
  s.active = false;
  ++s.epoch;
}

bool Scheduler::inFlight(size_t i) const {
  return slots_[i]->in_flight;
}

bool Scheduler::firstRoundDone() const {
  for (const auto& s : slots_) {
    if (s->active && !s->reported) return false;
  }
  return true;
}

void Scheduler::resumeFrom(size_t i, const Scheduler& old, size_t j) {
  Slot& s = *slots_[i];
  const Slot& o = *old.slots_[j];
  if (!o.reported && !o.in_flight) return;  // never probed there: probe at start() as usual
  s.reported = o.reported;
  s.resume_at = o.in_flight || o.queued ? SteadyTime::min() : o.next;
}

void Scheduler::start() {
  started_ = true;
  const SteadyTime now = timers_.now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    if (!s.active) continue;
    if (!s.resume_at || *s.resume_at <= now) {
      launch(i);
      continue;
    }
    launchAt(i, *s.resume_at);
  }
}

void Scheduler::launch(size_t i) {
  Slot& s = *slots_[i];
  if (!s.active) return;
  if (s.in_flight) {
    // The previous probe has not ended (its prober is late): never stack a second one.
    ++skipped_;
    scheduleNext(i, timers_.now(), false);
    return;
  }
  if (s.queued) return;  // already waiting for a free slot
  if (in_flight_count_ >= max_in_flight_) {
    s.queued = true;
    queue_.push_back(i);
    return;
  }
  startProbe(i);
}

void Scheduler::startProbe(size_t i) {
  Slot& s = *slots_[i];
  SteadyTime started = timers_.now();
  bool first = !s.reported;
  s.in_flight = true;
  ++in_flight_count_;
  uint64_t epoch = s.epoch;
  std::weak_ptr<bool> alive = alive_;
  prober_.probe(s.target, [this, i, epoch, alive](Outcome outcome) {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    Slot& slot = *slots_[i];
    slot.in_flight = false;
    --in_flight_count_;
    if (slot.epoch == epoch) {  // else removed meanwhile: not reported
      slot.reported = true;
      on_result_(i, outcome);
    }
    if (*guard) drainQueue();
  });
  scheduleNext(i, started, first);
}

void Scheduler::drainQueue() {
  while (in_flight_count_ < max_in_flight_ && !queue_.empty()) {
    size_t i = queue_.front();
    queue_.pop_front();
    Slot& s = *slots_[i];
    s.queued = false;
    if (s.active && !s.in_flight) startProbe(i);
  }
}

void Scheduler::scheduleNext(size_t i, SteadyTime from, bool first) {
  Slot& s = *slots_[i];
  const auto interval = s.target.check.interval;
  std::chrono::milliseconds delay = interval;
  if (first) {
    // Spread targets across one interval after the start-up round, so a thousand checks with
    // the same interval do not fire in the same millisecond forever after.
    std::uniform_int_distribution<int64_t> stagger(0, interval.count() - 1);
    delay += std::chrono::milliseconds(stagger(random_));
  } else {
    // Jitter of up to 10% keeps targets from drifting back into lockstep (Envoy does the same).
    int64_t max_jitter = interval.count() / 10;
    if (max_jitter > 0) {
      std::uniform_int_distribution<int64_t> jitter(0, max_jitter);
      delay += std::chrono::milliseconds(jitter(random_));
    }
  }
  launchAt(i, from + delay);
}

void Scheduler::launchAt(size_t i, SteadyTime at) {
  Slot& s = *slots_[i];
  s.next = at;
  uint64_t epoch = s.epoch;
  std::weak_ptr<bool> alive = alive_;
  timers_.callAt(at, [this, i, epoch, alive] {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    if (slots_[i]->epoch != epoch || !slots_[i]->active) return;
    launch(i);
  });
}

}  // namespace understudy::health
