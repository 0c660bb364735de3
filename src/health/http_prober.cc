#include "understudy/health/http_prober.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "socket_error.h"
#include "understudy/health/late_callbacks.h"
#include "understudy/http/curl_multi.h"

namespace understudy::health {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;

bool isIpv6(std::string_view address) {
  return address.find(':') != std::string_view::npos;
}

// A literal address as it appears in a URL or CURLOPT_CONNECT_TO: IPv6 in brackets, with a zone
// id's '%' escaped as RFC 6874 §2 requires ("[fe80::1%25eth0]").
std::string urlHost(std::string_view host) {
  if (!isIpv6(host)) return std::string(host);
  std::string out = "[";
  for (char c : host) {
    if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  out += ']';
  return out;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void eraseUpTo(std::string& text, std::string_view marker) {
  auto at = text.find(marker);
  if (at != std::string::npos) text.erase(0, at + marker.size());
}

// Curl's OpenSSL messages carry library versions, packed error codes and the peer address; the
// operator needs the reason ("certificate has expired"), the log line already names the target.
std::string tlsDetail(CURLcode code, std::string buffer) {
  if (code == CURLE_SSL_CACERT_BADFILE) return "cannot load CA file";
  auto suffix = buffer.find(" in connection to ");
  if (suffix != std::string::npos) buffer.erase(suffix);
  if (startsWith(buffer, "SSL certificate problem: ")) {
    eraseUpTo(buffer, ": ");
    return "certificate verify failed: " + buffer;
  }
  std::string_view name_mismatch = "target host name ";
  auto at = buffer.find(name_mismatch);
  if (startsWith(buffer, "SSL: ") && at != std::string::npos) {
    return "certificate does not match host " + buffer.substr(at + name_mismatch.size());
  }
  eraseUpTo(buffer, "SSL routines::");
  if (startsWith(buffer, "OpenSSL")) eraseUpTo(buffer, ": ");
  if (buffer.empty()) buffer = curl_easy_strerror(code);
  return "handshake failed: " + buffer;
}

bool isTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

}  // namespace

// One probe: its easy handle and everything curl points into (URL, header lists, error buffer,
// body), kept at a stable address until curl has let go of the handle.
class HttpProber::Transfer {
 public:
  Transfer(asio::io_context& io, const ProbeTarget& target, Done done)
      : target_(target), done_(std::move(done)), started_(Clock::now()), safety_(io) {}

  ~Transfer() {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
    curl_slist_free_all(connect_to_);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Builds the request. False if curl refused it (detail says why).
  bool prepare(std::string& detail);
  // The request goes to curl now: its timeout counts from here, not from when it was built.
  void handOver() { started_ = Clock::now(); }
  Outcome judge(CURLcode code);
  // Curl gave up on its CURLOPT_TIMEOUT_MS.
  Outcome curlTimedOut() { return timedOut(curlStarted()); }
  // Our safety timer gave up on curl.
  Outcome safetyTimedOut() { return timedOut(started_); }
  // The outcome was a timeout noticed so late that it was not counted (kNotRun).
  bool judgedLate() const { return judged_late_; }
  Outcome makeOutcome(OutcomeKind kind, std::string detail) const;

  CURL* easy() const { return easy_; }
  size_t bodySize() const { return body_.size(); }
  asio::steady_timer& safety() { return safety_; }
  Done takeDone() { return std::move(done_); }

 private:
  static size_t onBody(char* data, size_t size, size_t count, void* self);
  static curl_socket_t onOpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address);
  std::chrono::microseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
  }
  long responseCode() const;
  Clock::time_point curlStarted() const { return std::max(started_, socket_opened_); }
  Outcome timedOut(Clock::time_point counted_from);
  std::string timeoutDetail() const;
  Outcome connectFailed(CURLcode code) const;

  ProbeTarget target_;
  Done done_;
  Clock::time_point started_;
  // When curl opened the connection: curl starts its own clock on its first action after the
  // hand-over, which a busy thread can delay; the socket is opened in that same action.
  Clock::time_point socket_opened_{};
  bool judged_late_ = false;
  asio::steady_timer safety_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  std::string url_;
  std::string body_;
  bool body_cut_ = false;  // we stopped reading on purpose: the transfer "failed" by design
  int open_errno_ = 0;     // socket() failed here: the probe was not run
  std::array<char, CURL_ERROR_SIZE> error_{};
};

bool HttpProber::Transfer::prepare(std::string& detail) {
  easy_ = curl_easy_init();
  if (easy_ == nullptr) {
    detail = "curl_easy_init failed";
    return false;
  }
  const CheckSpec& check = target_.check;
  const bool https = check.type == CheckType::kHttps;
  const std::string& host = check.host.empty() ? target_.address : check.host;
  const std::string port = std::to_string(check.port);
  std::string path = check.path.empty() || check.path[0] != '/' ? "/" + check.path : check.path;
  url_ = (https ? "https://" : "http://") + urlHost(host) + ":" + port + path;

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy_, option, value);
  };
  set(CURLOPT_URL, url_.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  if (!check.host.empty()) {
    // Connect to the target address while the URL, Host header and SNI say check.host.
    // CONNECT_TO rather than CURLOPT_RESOLVE: RESOLVE entries live on in the DNS cache shared by
    // the whole multi handle, where every probe of one host:port (one per pool endpoint) would
    // rewrite the same entry; CONNECT_TO is private to this handle, and a numeric address never
    // reaches the resolver.
    std::string rule = "::" + urlHost(target_.address) + ":" + port;
    connect_to_ = curl_slist_append(nullptr, rule.c_str());
    set(CURLOPT_CONNECT_TO, connect_to_);
  }
  if (check.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);  // no body arrives, so a non-empty expect_body cannot match
  } else if (check.method != "GET") {
    // The config accepts GET and HEAD; anything else is sent as given rather than refused here.
    set(CURLOPT_CUSTOMREQUEST, check.method.c_str());
  }
  for (const auto& [name, value] : check.headers) {
    headers_ = curl_slist_append(headers_, (name + ": " + value).c_str());
  }
  if (headers_ != nullptr) set(CURLOPT_HTTPHEADER, headers_);
  set(CURLOPT_USERAGENT, "understudy-health");
  // HTTP/1.1 keeps one request on one fresh connection with nothing negotiated that the check
  // does not need.
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_FOLLOWLOCATION, 0L);
  // A fresh connection per probe: a pooled one could outlive the backend process behind it.
  set(CURLOPT_FRESH_CONNECT, 1L);
  // Addresses are numeric: nothing to cache, and a cache of ten thousand entries is walked on
  // every transfer when it is pruned.
  set(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  set(CURLOPT_FORBID_REUSE, 1L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(check.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(check.timeout.count()));
  if (https) {
    set(CURLOPT_SSL_VERIFYPEER, check.tls_verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, check.tls_verify ? 2L : 0L);
    if (!check.ca_file.empty()) set(CURLOPT_CAINFO, check.ca_file.c_str());
  }
  // Curl reports a failed socket() as "could not connect", like a dead backend; opening the
  // socket ourselves tells the two apart.
  set(CURLOPT_OPENSOCKETFUNCTION, &Transfer::onOpenSocket);
  set(CURLOPT_OPENSOCKETDATA, this);
  set(CURLOPT_WRITEFUNCTION, &Transfer::onBody);
  set(CURLOPT_WRITEDATA, this);
  set(CURLOPT_ERRORBUFFER, error_.data());
  if (rc != CURLE_OK) {
    detail = std::string("bad request setting: ") + curl_easy_strerror(rc);
    return false;
  }
  return true;
}

size_t HttpProber::Transfer::onBody(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<Transfer*>(self_ptr);
  const size_t offered = size * count;
  const size_t room = kMaxBody - self->body_.size();
  if (offered < room) {
    self->body_.append(data, offered);
    return offered;
  }
  // Full: returning a short count makes curl abort with CURLE_WRITE_ERROR, which judge() reads
  // as "body complete" — the check only ever looks at the first kMaxBody bytes.
  self->body_.append(data, room);
  self->body_cut_ = true;
  return 0;
}

curl_socket_t HttpProber::Transfer::onOpenSocket(void* self_ptr, curlsocktype,
                                                 curl_sockaddr* address) {
  auto* self = static_cast<Transfer*>(self_ptr);
  if (self->socket_opened_ == Clock::time_point{}) self->socket_opened_ = Clock::now();
  curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd == CURL_SOCKET_BAD) self->open_errno_ = errno;
  return fd;
}

long HttpProber::Transfer::responseCode() const {
  long code = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

Outcome HttpProber::Transfer::makeOutcome(OutcomeKind kind, std::string detail) const {
  Outcome outcome;
  outcome.kind = kind;
  outcome.duration = elapsed();
  outcome.detail = std::move(detail);
  return outcome;
}

std::string HttpProber::Transfer::timeoutDetail() const {
  if (easy_ == nullptr) return "no response";
  curl_off_t connected = 0;
  curl_off_t tls_done = 0;
  long local_port = 0;
  curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connected);
  curl_easy_getinfo(easy_, CURLINFO_APPCONNECT_TIME_T, &tls_done);
  // Curl counts the TLS handshake as part of "connect" (CONNECT_TIME stays 0 until it is done),
  // but it records the local port as soon as the TCP handshake completes.
  curl_easy_getinfo(easy_, CURLINFO_LOCAL_PORT, &local_port);
  if (connected == 0 && local_port == 0) return "connect timed out";
  if (target_.check.type == CheckType::kHttps && tls_done == 0) return "TLS handshake timed out";
  if (responseCode() == 0) return "no response";
  return "response incomplete";
}

// A timeout noticed more than kLateThreshold after it fell due means the thread was busy: the
// answer may have been waiting unread all along (curl checks its timeout before it reads what has
// arrived). That says nothing about the backend, so it is not reported as a timeout.
Outcome HttpProber::Transfer::timedOut(Clock::time_point counted_from) {
  const Clock::duration lateness = Clock::now() - (counted_from + target_.check.timeout);
  if (lateness > kLateThreshold) {
    judged_late_ = true;
    return makeOutcome(OutcomeKind::kNotRun, lateTimeoutDetail(lateness));
  }
  return makeOutcome(OutcomeKind::kTimeout, timeoutDetail());
}

Outcome HttpProber::Transfer::connectFailed(CURLcode code) const {
  long os_errno = 0;
  curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
  if (isLocalResourceError(static_cast<int>(os_errno))) {
    return makeOutcome(OutcomeKind::kNotRun,
                       "connect(): " + socketErrorDetail(static_cast<int>(os_errno)));
  }
  std::string detail;
  if (code == CURLE_GOT_NOTHING) {
    detail = "empty reply";
  } else if (code == CURLE_COULDNT_RESOLVE_HOST) {
    detail = "could not resolve host";
  } else if (os_errno != 0) {
    detail = socketErrorDetail(static_cast<int>(os_errno));
  } else if (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) {
    detail = "connection reset";
  } else {
    detail = error_[0] != '\0' ? error_.data() : curl_easy_strerror(code);
  }
  return makeOutcome(OutcomeKind::kConnectFailed, std::move(detail));
}

Outcome HttpProber::Transfer::judge(CURLcode code) {
  if (code == CURLE_WRITE_ERROR && body_cut_) code = CURLE_OK;
  if (code != CURLE_OK && open_errno_ != 0) {
    return makeOutcome(OutcomeKind::kNotRun, "socket(): " + socketErrorDetail(open_errno_));
  }
  if (code == CURLE_OUT_OF_MEMORY) return makeOutcome(OutcomeKind::kNotRun, "curl: out of memory");
  const long status = responseCode();
  switch (code) {
    case CURLE_OK: {
      Outcome outcome = makeOutcome(OutcomeKind::kOk, "HTTP " + std::to_string(status));
      outcome.http_status = static_cast<int>(status);
      const auto& ranges = target_.check.expect_status;
      bool status_ok = std::any_of(ranges.begin(), ranges.end(), [&](const StatusRange& range) {
        return range.contains(outcome.http_status);
      });
      const std::string& expected = target_.check.expect_body;
      if (!status_ok) {
        outcome.kind = OutcomeKind::kBadStatus;
      } else if (!expected.empty() && body_.find(expected) == std::string::npos) {
        outcome.kind = OutcomeKind::kBodyMismatch;
        outcome.detail =
            "'" + expected + "' not in the first " + std::to_string(body_.size()) + " body bytes";
      }
      return outcome;
    }
    case CURLE_OPERATION_TIMEDOUT:
      return curlTimedOut();
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_GOT_NOTHING:
      return connectFailed(code);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      // Reset before any answer is a dead backend; reset mid-answer is a broken one.
      if (status == 0) return connectFailed(code);
      break;
    default:
      if (isTlsError(code))
        return makeOutcome(OutcomeKind::kTlsError, tlsDetail(code, error_.data()));
      break;
  }
  std::string detail = curl_easy_strerror(code);
  if (error_[0] != '\0') detail += std::string(": ") + error_.data();
  return makeOutcome(OutcomeKind::kError, std::move(detail));
}

HttpProber::HttpProber(asio::io_context& io) : io_(io) {
  http::initCurlOnce();  // it also initialises OpenSSL: create the first prober early
  for (size_t i = 0; i < kShards; ++i) multis_.push_back(http::CurlMulti::create(io));
}

HttpProber::~HttpProber() {
  // Detach every easy handle before the transfers (which own them) are freed; no callback runs.
  for (auto& m : multis_) m->shutdown();
  probes_.clear();
}

http::CurlMulti& HttpProber::leastLoaded() {
  http::CurlMulti* best = multis_.front().get();
  for (auto& m : multis_) {
    if (m->size() < best->size()) best = m.get();
  }
  return *best;
}

void HttpProber::probe(const ProbeTarget& target, Done done) {
  auto transfer = std::make_shared<Transfer>(io_, target, std::move(done));
  Transfer* raw = transfer.get();
  http::CurlMulti& multi = leastLoaded();
  probes_.emplace(raw, std::make_pair(transfer, &multi));
  // Handlers hold weak pointers: once a probe is finished or the prober is gone they do nothing,
  // and a live Transfer implies a live prober (only probes_ owns Transfers).
  std::weak_ptr<Transfer> weak = transfer;

  std::string detail;
  bool added = raw->prepare(detail);
  if (added) {
    raw->handOver();
    added = multi.add(raw->easy(), [this, weak](CURLcode code) {
      if (auto transfer = weak.lock()) onFinished(*transfer, code);
    });
  }
  if (!added) {
    if (detail.empty()) detail = "curl refused the transfer";
    // Nothing reached the backend: a local failure, not a verdict on it. Never call done from
    // inside probe(): the caller may not expect re-entry.
    asio::post(io_, [this, weak, detail] {
      if (auto transfer = weak.lock())
        finish(*transfer, transfer->makeOutcome(OutcomeKind::kNotRun, detail));
    });
    return;
  }
  // Curl enforces CURLOPT_TIMEOUT_MS itself; this bounds the outcome even if it does not.
  raw->safety().expires_after(target.check.timeout + kSafetyMargin);
  raw->safety().async_wait([this, weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto transfer = weak.lock()) onSafetyTimeout(*transfer);
  });
}

void HttpProber::onFinished(Transfer& transfer, int curl_code) {
  finish(transfer, transfer.judge(static_cast<CURLcode>(curl_code)));
}

void HttpProber::onSafetyTimeout(Transfer& transfer) {
  // finish() detaches the handle from curl, so a late completion cannot report twice.
  finish(transfer, transfer.safetyTimedOut());
}

void HttpProber::finish(Transfer& transfer, Outcome outcome) {
  auto it = probes_.find(&transfer);
  if (it == probes_.end()) return;
  std::shared_ptr<Transfer> keep = std::move(it->second.first);
  http::CurlMulti* multi = it->second.second;
  probes_.erase(it);
  multi->remove(transfer.easy());
  boost::system::error_code ignored;
  transfer.safety().cancel(ignored);
  peak_body_bytes_ = std::max(peak_body_bytes_, transfer.bodySize());
  if (transfer.judgedLate()) ++late_timeouts_;
  Done done = transfer.takeDone();
  // Usually frees the Transfer (and its connection) before reporting, as `done` may start the
  // next probe at once; a handler still holding it frees it on return.
  keep.reset();
  if (done) done(std::move(outcome));
}

}  // namespace understudy::health
