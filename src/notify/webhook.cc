#include "webhook.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

#include "understudy/http/curl_multi.h"

namespace understudy::notify {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What of a receiver's answer we keep for the log line ("HTTP 400: {"message":"Invalid routing
// key"}"); the rest is read and thrown away.
constexpr size_t kMaxResponseKept = 200;
// Curl enforces the hook's timeout itself; this bounds a transfer even if it does not.
constexpr milliseconds kSafetyMargin{1000};

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

// One line of printable text: the receiver's words go into our log verbatim otherwise.
std::string oneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool blank = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string redactUrl(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return "";
  std::string out;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
                           CURLUPART_FRAGMENT}) {
      curl_url_set(parsed, part, nullptr, 0);
    }
    char* text = nullptr;
    if (curl_url_get(parsed, CURLUPART_URL, &text, 0) == CURLUE_OK) out = text;
    curl_free(text);
  }
  curl_url_cleanup(parsed);
  return out;
}

// One POST: its easy handle and everything curl points into, at a stable address until curl has
// let go of the handle.
class Webhook::Attempt {
 public:
  struct Verdict {
    bool delivered = false;
    bool retryable = false;
    std::string reason;  // "HTTP 503", "timed out after 5000 ms", ...
    std::chrono::seconds retry_after{0};
  };

  Attempt(const config::WebhookConfig& config, std::string body)
      : config_(config), body_(std::move(body)), started_(Clock::now()) {}
  ~Attempt() {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
  }
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  bool prepare(std::string& detail);
  Verdict judge(CURLcode code) const;
  std::string timedOut() const;
  CURL* easy() const { return easy_; }
  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - started_);
  }

 private:
  static size_t onResponse(char* data, size_t size, size_t count, void* self);

  const config::WebhookConfig& config_;
  std::string body_;
  Clock::time_point started_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string response_;
  std::array<char, CURL_ERROR_SIZE> error_{};
};

bool Webhook::Attempt::prepare(std::string& detail) {
  easy_ = curl_easy_init();
  if (easy_ == nullptr) {
    detail = "curl_easy_init failed";
    return false;
  }
  bool own_content_type = false;
  for (const auto& [name, value] : config_.headers) {
    if (startsWithIgnoringCase(name, "content-type") && name.size() == 12) {
      own_content_type = true;
    }
  }
  if (!own_content_type) headers_ = curl_slist_append(headers_, "Content-Type: application/json");
  // Curl would send "Expect: 100-continue" for larger bodies and wait up to a second for a
  // "100 Continue" that many receivers never send.
  headers_ = curl_slist_append(headers_, "Expect:");
  for (const auto& [name, value] : config_.headers) {
    headers_ = curl_slist_append(headers_, (name + ": " + value).c_str());
  }

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy_, option, value);
  };
  set(CURLOPT_URL, config_.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_POST, 1L);
  set(CURLOPT_POSTFIELDS, body_.data());
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
  set(CURLOPT_HTTPHEADER, headers_);
  set(CURLOPT_USERAGENT, "understudy-notify");
  // A redirect is a misconfigured URL: following it would resend the body (and its routing key)
  // somewhere the operator did not name.
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  set(CURLOPT_WRITEFUNCTION, &Attempt::onResponse);
  set(CURLOPT_WRITEDATA, this);
  set(CURLOPT_ERRORBUFFER, error_.data());
  if (rc != CURLE_OK) {
    detail = std::string("bad request setting: ") + curl_easy_strerror(rc);
    return false;
  }
  return true;
}

size_t Webhook::Attempt::onResponse(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<Attempt*>(self_ptr);
  const size_t offered = size * count;
  const size_t room = kMaxResponseKept - std::min(kMaxResponseKept, self->response_.size());
  self->response_.append(data, std::min(offered, room));
  return offered;  // the rest is read and dropped, so the transfer completes normally
}

std::string Webhook::Attempt::timedOut() const {
  return "timed out after " + std::to_string(config_.timeout.count()) + " ms";
}

Webhook::Attempt::Verdict Webhook::Attempt::judge(CURLcode code) const {
  Verdict verdict;
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    verdict.reason = "HTTP " + std::to_string(status);
    if (status >= 200 && status < 300) {
      verdict.delivered = true;
      return verdict;
    }
    // 5xx: the receiver's trouble, likely passing. 429: PagerDuty's rate limit. Any other answer
    // says the request itself is wrong (bad key, bad body, moved URL): sending it again will not
    // help.
    verdict.retryable = status >= 500 || status == 429;
    std::string said = oneLine(response_);
    if (!said.empty()) verdict.reason += ": " + said;
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(easy_, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
      verdict.retry_after = std::chrono::seconds(retry_after);
    }
    return verdict;
  }
  long os_errno = 0;
  curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
  verdict.retryable = true;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      verdict.reason = timedOut();
      return verdict;
    case CURLE_COULDNT_CONNECT:
      verdict.reason = "connect failed";
      if (os_errno != 0) verdict.reason += std::string(": ") + std::strerror(os_errno);
      return verdict;
    case CURLE_COULDNT_RESOLVE_HOST:
      verdict.reason = "could not resolve host";
      return verdict;
    case CURLE_GOT_NOTHING:
      verdict.reason = "empty reply";
      return verdict;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      verdict.reason = "connection reset";
      return verdict;
    case CURLE_SSL_CONNECT_ERROR:  // a reset during the handshake, more often than not
      verdict.reason = "TLS handshake failed";
      break;
    default:
      // Certificate problems, a malformed URL, an unsupported scheme: the configuration's fault.
      verdict.retryable = false;
      verdict.reason = curl_easy_strerror(code);
      break;
  }
  if (error_[0] != '\0') verdict.reason += std::string(": ") + error_.data();
  return verdict;
}

Webhook::Webhook(asio::io_context& io, std::shared_ptr<http::CurlMulti> multi,
                 config::WebhookConfig config, const NotifierOptions& options)
    : io_(io),
      multi_(std::move(multi)),
      config_(std::move(config)),
      options_(options),
      log_url_(redactUrl(config_.url)),
      backoff_(io),
      safety_(io),
      random_(std::random_device{}()) {
  options_.max_queue = std::max<size_t>(options_.max_queue, 1);
  if (log_url_.empty()) log_url_ = "(invalid URL)";
  stats_.url = log_url_;
}

Webhook::~Webhook() {
  // Detach the handle before the Attempt frees it; a no-op once the CurlMulti is shut down.
  if (attempt_) multi_->remove(attempt_->easy());
}

bool Webhook::sameAs(const config::WebhookConfig& other) const {
  return config_.url == other.url && config_.format == other.format &&
         config_.headers == other.headers && config_.routing_key == other.routing_key &&
         config_.timeout == other.timeout && config_.retries == other.retries;
}

HookStats Webhook::stats() const {
  HookStats stats = stats_;
  stats.queued = queue_.size();
  return stats;
}

void Webhook::enqueue(Notification notification) {
  if (retired_) return;
  queue_.push_back(std::move(notification));
  // The front is being delivered and stays; the oldest of those waiting behind it goes.
  while (queue_.size() > options_.max_queue && queue_.size() >= 2) {
    queue_.erase(queue_.begin() + 1);
    ++stats_.dropped;
    if (!dropping_) {
      dropping_ = true;
      spdlog::warn("webhook {}: {} notifications undelivered, dropping the oldest", log_url_,
                   options_.max_queue);
    }
  }
  if (queue_.size() == 1) doSend();
}

void Webhook::retire() {
  retired_ = true;
  boost::system::error_code ignored;
  backoff_.cancel(ignored);
  // The request in flight may finish; everything else is dropped now.
  size_t keep = attempt_ ? 1 : 0;
  size_t dropped = queue_.size() - std::min(queue_.size(), keep);
  if (dropped > 0) {
    stats_.dropped += dropped;
    spdlog::info("webhook {}: removed from the configuration, {} undelivered notifications dropped",
                 log_url_, dropped);
  }
  queue_.resize(std::min(queue_.size(), keep));
}

void Webhook::doSend() {
  if (queue_.empty()) return;
  if (attempts_ > 0) ++stats_.retried;
  ++attempts_;
  const uint64_t serial = ++serial_;
  attempt_ = std::make_unique<Attempt>(config_, queue_.front().body);
  std::string detail;
  std::weak_ptr<Webhook> weak = weak_from_this();
  if (!attempt_->prepare(detail) || !multi_->add(attempt_->easy(), [weak](CURLcode code) {
        if (auto self = weak.lock()) self->onFinished(code);
      })) {
    attempt_.reset();
    if (detail.empty()) detail = "curl refused the transfer";
    failed(detail, false, std::chrono::seconds(0));
    return;
  }
  safety_.expires_after(config_.timeout + kSafetyMargin);
  safety_.async_wait([weak, serial](const boost::system::error_code& ec) {
    if (auto self = weak.lock()) self->onSafetyTimeout(serial, ec);
  });
}

void Webhook::onFinished(CURLcode code) {
  if (!attempt_) return;
  Attempt::Verdict verdict = attempt_->judge(code);
  milliseconds took = attempt_->elapsed();
  attempt_.reset();  // curl has already detached the handle
  boost::system::error_code ignored;
  safety_.cancel(ignored);
  if (!verdict.delivered) {
    failed(verdict.reason, verdict.retryable, verdict.retry_after);
    return;
  }
  ++stats_.sent;
  dropping_ = false;
  spdlog::debug("webhook {}: {} delivered ({}, {} ms, attempt {})", log_url_, queue_.front().what,
                verdict.reason, took.count(), attempts_);
  queue_.pop_front();
  attempts_ = 0;
  next();
}

void Webhook::onSafetyTimeout(uint64_t serial, const boost::system::error_code& ec) {
  if (ec || serial != serial_ || !attempt_) return;
  multi_->remove(attempt_->easy());
  std::string reason = attempt_->timedOut();
  attempt_.reset();
  failed(reason, true, std::chrono::seconds(0));
}

void Webhook::failed(const std::string& reason, bool retryable, std::chrono::seconds retry_after) {
  const Notification& front = queue_.front();
  if (retryable && !retired_ && attempts_ <= config_.retries) {
    milliseconds delay = backoff(attempts_, retry_after);
    spdlog::warn("webhook {}: {} not delivered: {}; retry {} of {} in {} ms", log_url_, front.what,
                 reason, attempts_, config_.retries, delay.count());
    backoff_.expires_after(delay);
    backoff_.async_wait(
        [weak = weak_from_this(), serial = serial_](const boost::system::error_code& ec) {
          if (auto self = weak.lock()) self->onBackoff(serial, ec);
        });
    return;
  }
  ++stats_.failed;
  if (!retryable) {
    spdlog::warn("webhook {}: {} not delivered: {}; not retried", log_url_, front.what, reason);
  } else if (retired_) {
    spdlog::warn("webhook {}: {} not delivered: {}; hook removed, not retried", log_url_,
                 front.what, reason);
  } else {
    spdlog::warn("webhook {}: {} not delivered: {}; giving up after {} attempts", log_url_,
                 front.what, reason, attempts_);
  }
  queue_.pop_front();
  attempts_ = 0;
  next();
}

void Webhook::onBackoff(uint64_t serial, const boost::system::error_code& ec) {
  if (ec || serial != serial_ || retired_ || attempt_ || queue_.empty()) return;
  doSend();
}

void Webhook::next() {
  if (retired_) {
    stats_.dropped += queue_.size();
    queue_.clear();
  }
  if (queue_.empty()) {
    dropping_ = false;
    return;
  }
  doSend();
}

milliseconds Webhook::backoff(unsigned retry, std::chrono::seconds retry_after) {
  const double base = static_cast<double>(options_.base_delay.count());
  const double cap = static_cast<double>(options_.max_delay.count());
  double delay = std::min(cap, base * std::ldexp(1.0, static_cast<int>(std::min(retry, 32u)) - 1));
  if (options_.jitter > 0) {
    delay += delay * std::uniform_real_distribution<double>(0.0, options_.jitter)(random_);
  }
  // Retry-After (RFC 9110 §10.2.3) is the receiver telling us how long it needs; honour it
  // within our own cap.
  const double asked = std::min(cap, static_cast<double>(retry_after.count()) * 1000.0);
  return milliseconds(static_cast<int64_t>(std::max(delay, asked)));
}

}  // namespace understudy::notify
