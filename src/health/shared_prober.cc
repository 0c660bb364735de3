#include "understudy/health/shared_prober.h"

namespace understudy::health {

SharedProber::~SharedProber() {
  *alive_ = false;
}

std::string SharedProber::key(const ProbeTarget& t) {
  const CheckSpec& c = t.check;
  // Fields joined by a byte no field can hold unescaped in a valid config (NUL).
  std::string k;
  auto add = [&k](const std::string& s) {
    k += s;
    k += '\0';
  };
  add(t.address);
  add(std::to_string(static_cast<int>(c.type)));
  add(std::to_string(c.port));
  add(c.path);
  add(c.method);
  add(c.host);
  add(std::to_string(c.headers.size()));
  for (const auto& [name, value] : c.headers) {
    add(name);
    add(value);
  }
  add(std::to_string(c.expect_status.size()));
  for (const auto& range : c.expect_status) {
    add(std::to_string(range.low));
    add(std::to_string(range.high));
  }
  add(c.expect_body);
  add(c.tls_verify ? "1" : "0");
  add(c.ca_file);
  add(std::to_string(c.timeout.count()));
  return k;
}

void SharedProber::probe(const ProbeTarget& target, Done done) {
  std::string k = key(target);
  auto it = flights_.find(k);
  if (it != flights_.end()) {
    ++joined_;
    it->second.push_back(std::move(done));
    return;
  }
  flights_[k].push_back(std::move(done));
  std::weak_ptr<bool> alive = alive_;
  inner_.probe(target, [this, alive, k](Outcome outcome) {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    auto node = flights_.extract(k);
    if (node.empty()) return;
    // Out of the table before anyone is told: a waiter may start the next probe of this target.
    for (Done& waiter : node.mapped()) {
      waiter(outcome);
      if (!*guard) return;  // a waiter destroyed us
    }
  });
}

}  // namespace understudy::health
