#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>

#include "understudy/health/check.h"

namespace understudy::http {
class CurlMulti;
}  // namespace understudy::http

namespace understudy::health {

// HTTP and HTTPS checks through libcurl's multi socket interface on the caller's io_context:
// no thread per probe and no blocking call, so thousands of probes share one thread.
//
// Every probe is a fresh connection to the target address (a dead backend must not hide behind
// a pooled connection), with the check's host as Host header and SNI, no redirects followed (a
// 3xx is judged by expect_status), and at most kMaxBody bytes of body read: after that the
// transfer is cut short and judged on what arrived, so a huge body costs neither memory nor time.
//
// `done` runs exactly once per probe, on the io_context, never inside probe(), and no later than
// the check's timeout + kSafetyMargin even if curl overruns its own timeout. Probes still in flight
// when the prober is destroyed are abandoned: their `done` is destroyed without being called,
// because the owner destroying the prober is the one those callbacks would report to.
class HttpProber : public Prober {
 public:
  static constexpr size_t kMaxBody = 64 * 1024;
  static constexpr std::chrono::milliseconds kSafetyMargin{50};

  explicit HttpProber(boost::asio::io_context& io);
  ~HttpProber() override;
  HttpProber(const HttpProber&) = delete;
  HttpProber& operator=(const HttpProber&) = delete;

  void probe(const ProbeTarget& target, Done done) override;

  size_t inFlight() const { return probes_.size(); }
  // The most body bytes any single probe has held: evidence for the kMaxBody bound.
  size_t peakBodyBytes() const { return peak_body_bytes_; }
  // Probes whose timeout (curl's or the safety timer's) was noticed more than kLateThreshold after
  // it was due, the thread having been busy, and so were reported kNotRun, not kTimeout.
  uint64_t lateTimeouts() const { return late_timeouts_; }

 private:
  class Transfer;

  void onFinished(Transfer& transfer, int curl_code);
  void onSafetyTimeout(Transfer& transfer);
  void finish(Transfer& transfer, Outcome outcome);

  http::CurlMulti& leastLoaded();

  // libcurl's multi handle walks some per-handle tables on every transfer (its host cache and
  // handle lists), so one multi with ten thousand transfers costs O(n) per probe. Spreading the
  // probes over a few multis on the same io_context keeps each small; they share nothing.
  static constexpr size_t kShards = 32;
  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<http::CurlMulti>> multis_;
  std::unordered_map<Transfer*, std::pair<std::shared_ptr<Transfer>, http::CurlMulti*>> probes_;
  size_t peak_body_bytes_ = 0;
  uint64_t late_timeouts_ = 0;
};

}  // namespace understudy::health
