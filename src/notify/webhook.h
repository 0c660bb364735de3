// One configured webhook: its queue, the request in flight, retries and counters.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "understudy/config/config.h"
#include "understudy/notify/notifier.h"

namespace understudy::notify {

// A body ready to POST, and what it is about for log lines.
struct Notification {
  std::string body;
  std::string what;
};

// The URL as it may appear in logs and metrics: no user, password, query or fragment (where
// webhook secrets usually live). "" for something that does not parse as a URL.
std::string redactUrl(const std::string& url);

// Delivers its notifications one at a time, oldest first, through the shared CurlMulti.
//
// Always held by shared_ptr; timer and curl callbacks hold only a weak_ptr, so destroying the
// Webhook abandons them safely.
class Webhook : public std::enable_shared_from_this<Webhook> {
 public:
  Webhook(boost::asio::io_context& io, std::shared_ptr<http::CurlMulti> multi,
          config::WebhookConfig config, const NotifierOptions& options);
  ~Webhook();
  Webhook(const Webhook&) = delete;
  Webhook& operator=(const Webhook&) = delete;

  const config::WebhookConfig& config() const { return config_; }
  // Same destination, body format and delivery settings (the config location does not count).
  bool sameAs(const config::WebhookConfig& other) const;

  void enqueue(Notification notification);
  // Removed from the configuration: the request in flight may finish, nothing else is sent.
  void retire();
  bool idle() const { return queue_.empty(); }
  HookStats stats() const;

 private:
  class Attempt;

  void doSend();
  void onFinished(CURLcode code);
  void onSafetyTimeout(uint64_t serial, const boost::system::error_code& ec);
  void onBackoff(uint64_t serial, const boost::system::error_code& ec);
  // After an attempt failed: retry the front notification later, or give it up.
  void failed(const std::string& reason, bool retryable, std::chrono::seconds retry_after);
  void next();
  std::chrono::milliseconds backoff(unsigned retry, std::chrono::seconds retry_after);

  boost::asio::io_context& io_;
  std::shared_ptr<http::CurlMulti> multi_;
  config::WebhookConfig config_;
  NotifierOptions options_;
  std::string log_url_;
  // Front: the notification being delivered (in flight or waiting to be retried).
  std::deque<Notification> queue_;
  std::unique_ptr<Attempt> attempt_;  // the request in flight, if any
  unsigned attempts_ = 0;             // attempts made for the front notification
  // Numbers every attempt: a timer that already fired cannot be cancelled, so its handler checks
  // it still belongs to the current attempt.
  uint64_t serial_ = 0;
  boost::asio::steady_timer backoff_;
  boost::asio::steady_timer safety_;
  bool retired_ = false;
  bool dropping_ = false;  // in a burst of drops: logged once, until the queue recovers
  HookStats stats_;
  std::minstd_rand random_;
};

}  // namespace understudy::notify
