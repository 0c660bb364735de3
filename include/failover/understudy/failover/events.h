// What the failover side tells the outside world (webhooks, later other sinks). Plain data,
// produced on the control thread; a sink must never block it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace understudy::failover {

// A probe target changed state (or got its first measurement).
struct HealthEvent {
  std::chrono::system_clock::time_point time;
  std::string target;                  // "web 127.0.0.1:8080" (check name, probe address:port)
  std::string check;                   // "web"
  std::string address;                 // the probed address
  std::vector<std::string> endpoints;  // "pool/answered-address" using this target
  std::string from;                    // "up", "down", "unknown"
  std::string to;
  std::string reason;    // "HTTP 503 x3", "connect refused x2", ...
  bool initial = false;  // the first measurement after start-up or a reload, not a transition
};

// The answer of a pooled record changed.
struct AnswerEvent {
  std::chrono::system_clock::time_point time;
  std::string record;  // "app.svc.example.com. A"
  std::string pool;
  std::string from;          // "192.0.2.10 (primary, ttl 300)"
  std::string to;            // "198.51.100.10 (failed over to priority 2, ttl 30)"
  bool failed_over = false;  // the new answer is not the healthy primary one
  bool all_down = false;
};

struct ReloadFailedEvent {
  std::chrono::system_clock::time_point time;
  std::string source;               // the config file
  std::vector<std::string> errors;  // "file:line:col: key: message"
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void onHealth(const HealthEvent& event) = 0;
  virtual void onAnswer(const AnswerEvent& event) = 0;
  virtual void onReloadFailed(const ReloadFailedEvent& event) = 0;
};

}  // namespace understudy::failover
