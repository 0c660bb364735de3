#include "backend.h"

#include <fcntl.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (C++20 mode).
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "harness.h"

namespace understudy::systest {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string tlsDataPath(const std::string& name) {
  return std::string(UNDERSTUDY_TEST_DATA) + "/tls/" + name;
}

namespace {

std::string reasonPhrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string httpResponse(int code, const std::string& body, bool head) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reasonPhrase(code) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + (head ? std::string() : body);
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Asio opens sockets without SOCK_CLOEXEC; a daemon forked by the test must not inherit them,
// or a stopped backend would keep listening in the child.
void setCloexec(int fd) {
  fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

}  // namespace

// The shared machinery: one io_context and thread per backend; the listener, the connections and
// the request counters live on that thread. Public calls run their work there and wait for it.
class BackendCore {
 public:
  enum class Kind { kHttp, kTcp };

  BackendCore(Kind kind, const std::string& address, uint16_t port, std::optional<TlsFiles> tls)
      : kind_(kind), address_(address), port_(port), work_(asio::make_work_guard(io_)) {
    if (tls) {
      ssl_.emplace(asio::ssl::context::tls_server);
      ssl_->use_certificate_chain_file(tls->cert);
      ssl_->use_private_key_file(tls->key, asio::ssl::context::pem);
    }
    thread_ = std::thread([this] { io_.run(); });
    try {
      start();
    } catch (...) {
      shutdown();
      throw;
    }
  }

  ~BackendCore() { shutdown(); }

  void start() {
    onIo([this] { listen(); });
  }

  void stop() {
    onIo([this] {
      ++generation_;
      if (acceptor_) {
        error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
      }
      for (const auto& c : connections_) c->close();
      connections_.clear();
      open_ = 0;
    });
  }

  bool listening() {
    bool out = false;
    onIo([&] { out = acceptor_.has_value(); });
    return out;
  }

  void setMode(HttpMode mode, int status = 200,
               std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
    onIo([&] {
      mode_ = mode;
      status_ = status;
      delay_ = delay;
      alternate_count_ = 0;
    });
  }

  const std::string& address() const { return address_; }
  uint16_t port() const { return port_; }

  size_t requests() const {
    std::lock_guard lock(mu_);
    return lines_.size();
  }
  std::vector<std::string> hosts() const {
    std::lock_guard lock(mu_);
    return hosts_;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  size_t accepted() const { return accepted_.load(); }
  size_t open() const { return open_.load(); }
  size_t mostOpen() const { return most_open_.load(); }
  // io thread only: how long to wait before sending a response.
  std::chrono::milliseconds delay() const {
    return mode_ == HttpMode::kSlow ? delay_ : delay_.zero();
  }

  // io thread only, from the connections:

  // Records a complete request header and returns the response, or nullopt to hang.
  std::optional<std::string> respond(const std::string& head) {
    std::string line = head.substr(0, head.find("\r\n"));
    std::string host;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      size_t next = head.find("\r\n", pos + 2);
      std::string header =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      auto colon = header.find(':');
      if (colon != std::string::npos && lower(header.substr(0, colon)) == "host") {
        host = trim(header.substr(colon + 1));
      }
      pos = next;
    }
    {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
      hosts_.push_back(host);
    }
    bool head_method = line.rfind("HEAD ", 0) == 0;
    switch (mode_) {
      case HttpMode::kOk:
        return httpResponse(200, "OK", head_method);
      case HttpMode::kStatus:
        return httpResponse(status_, "status " + std::to_string(status_), head_method);
      case HttpMode::kWrongBody:
        return httpResponse(200, "maintenance", head_method);
      case HttpMode::kHang:
        return std::nullopt;
      case HttpMode::kAlternate:
        return (alternate_count_++ % 2 == 0) ? httpResponse(200, "OK", head_method)
                                             : httpResponse(503, "flapping", head_method);
      case HttpMode::kSlow:
        return httpResponse(200, "OK", head_method);
    }
    return std::nullopt;
  }

  void forget(const std::shared_ptr<Connection>& c) {
    if (connections_.erase(c) != 0) open_ = connections_.size();
  }
  void remember(const std::shared_ptr<Connection>& c) {
    connections_.insert(c);
    open_ = connections_.size();
    if (open_ > most_open_) most_open_ = open_.load();
  }

 private:
  template <class Stream>
  class HttpConnection;

  template <class F>
  void onIo(F&& f) {
    std::promise<void> done;
    auto result = done.get_future();
    asio::post(io_, [&] {
      try {
        f();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    result.get();
  }

  void shutdown() {
    if (!thread_.joinable()) return;
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void listen() {
    if (acceptor_) return;
    tcp::endpoint ep(asio::ip::make_address(address_), port_);
    tcp::acceptor a(io_);
    error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) setCloexec(a.native_handle());
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("backend cannot listen on " + address_ + ":" +
                               std::to_string(port_) + ": " + ec.message());
    }
    port_ = a.local_endpoint().port();
    acceptor_.emplace(std::move(a));
    doAccept(++generation_);
  }

  void doAccept(uint64_t generation) {
    acceptor_->async_accept([this, generation](error_code ec, tcp::socket socket) {
      if (generation != generation_ || !acceptor_) return;  // stopped meanwhile
      if (!ec) onAccept(std::move(socket));
      doAccept(generation);
    });
  }

  void onAccept(tcp::socket socket);

  const Kind kind_;
  const std::string address_;
  std::atomic<uint16_t> port_;
  std::optional<asio::ssl::context> ssl_;  // before io_: outlives the handlers io_ destroys
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<tcp::acceptor> acceptor_;
  uint64_t generation_ = 0;
  std::set<std::shared_ptr<Connection>> connections_;
  HttpMode mode_ = HttpMode::kOk;
  int status_ = 200;
  std::chrono::milliseconds delay_{0};
  uint64_t alternate_count_ = 0;
  std::atomic<size_t> open_{0};
  std::atomic<size_t> most_open_{0};
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  std::vector<std::string> hosts_;
  std::atomic<size_t> accepted_{0};
  std::thread thread_;
};

// One HTTP exchange per connection (the daemon's probes never reuse connections): read the
// header, answer per the mode, then close gracefully so the client reads the whole answer.
template <class Stream>
class BackendCore::HttpConnection : public Connection,
                                    public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  template <class... Args>
  explicit HttpConnection(BackendCore& core, Args&&... args)
      : core_(core), stream_(std::forward<Args>(args)...), timer_(stream_.get_executor()) {}

  void begin() {
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, [self](error_code ec) {
        if (ec) return self->finish();
        self->readRequest();
      });
    } else {
      readRequest();
    }
  }

  void close() override {
    error_code ec;
    stream_.lowest_layer().close(ec);
  }

 private:
  void readRequest() {
    auto self = this->shared_from_this();
    asio::async_read_until(stream_, buffer_, "\r\n\r\n", [self](error_code ec, size_t n) {
      if (ec) return self->finish();
      self->onRequest(n);
    });
  }

  void onRequest(size_t n) {
    auto data = buffer_.data();
    std::string head(asio::buffers_begin(data), asio::buffers_begin(data) + n);
    buffer_.consume(n);
    auto response = core_.respond(head);
    if (!response) return;  // hang: kept open (in the core's set) until stop()
    response_ = std::move(*response);
    auto self = this->shared_from_this();
    if (auto delay = core_.delay(); delay.count() > 0) {
      timer_.expires_after(delay);
      timer_.async_wait([self](error_code ec) {
        if (ec) return self->finish();
        self->writeResponse();
      });
      return;
    }
    writeResponse();
  }

  void writeResponse() {
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(response_), [self](error_code ec, size_t) {
      if (ec) return self->finish();
      self->closeGracefully();
    });
  }

  void closeGracefully() {
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      stream_.async_shutdown([self](error_code) { self->finish(); });
    } else {
      error_code ec;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
      drain();
    }
  }

  // Reads until the client closes, so our close never resets a connection with unread data.
  void drain() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(scratch_), [self](error_code ec, size_t) {
      if (ec) return self->finish();
      self->drain();
    });
  }

  void finish() {
    close();
    core_.forget(this->shared_from_this());
  }

  BackendCore& core_;
  Stream stream_;
  asio::streambuf buffer_;
  std::string response_;
  asio::steady_timer timer_;
  char scratch_[512];
};

void BackendCore::onAccept(tcp::socket socket) {
  ++accepted_;
  setCloexec(socket.native_handle());
  if (kind_ == Kind::kTcp) {
    error_code ec;
    socket.close(ec);
    return;
  }
  std::shared_ptr<Connection> conn;
  if (ssl_) {
    auto c = std::make_shared<HttpConnection<asio::ssl::stream<tcp::socket>>>(
        *this, std::move(socket), *ssl_);
    remember(c);
    c->begin();
  } else {
    auto c = std::make_shared<HttpConnection<tcp::socket>>(*this, std::move(socket));
    remember(c);
    c->begin();
  }
}

// ---------------------------------------------------------------------------------------------

struct HttpBackend::Impl : BackendCore {
  using BackendCore::BackendCore;
};

HttpBackend::HttpBackend(const std::string& address, uint16_t port, std::optional<TlsFiles> tls)
    : impl_(std::make_unique<Impl>(BackendCore::Kind::kHttp, address, port, std::move(tls))) {}
HttpBackend::~HttpBackend() = default;

const std::string& HttpBackend::address() const {
  return impl_->address();
}
uint16_t HttpBackend::port() const {
  return impl_->port();
}
std::string HttpBackend::endpoint() const {
  const std::string& a = address();
  return (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" + std::to_string(port());
}
void HttpBackend::ok() {
  impl_->setMode(HttpMode::kOk);
}
void HttpBackend::status(int code) {
  impl_->setMode(HttpMode::kStatus, code);
}
void HttpBackend::wrongBody() {
  impl_->setMode(HttpMode::kWrongBody);
}
void HttpBackend::hang() {
  impl_->setMode(HttpMode::kHang);
}
void HttpBackend::alternate() {
  impl_->setMode(HttpMode::kAlternate);
}
void HttpBackend::slow(std::chrono::milliseconds delay) {
  impl_->setMode(HttpMode::kSlow, 200, delay);
}
void HttpBackend::stop() {
  impl_->stop();
}
void HttpBackend::start() {
  impl_->start();
}
bool HttpBackend::listening() const {
  return impl_->listening();
}
size_t HttpBackend::requests() const {
  return impl_->requests();
}
std::vector<std::string> HttpBackend::hostHeaders() const {
  return impl_->hosts();
}
std::vector<std::string> HttpBackend::requestLines() const {
  return impl_->lines();
}
bool HttpBackend::waitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  return pollUntil([&] { return requests() >= n; }, timeout);
}
size_t HttpBackend::openConnections() const {
  return impl_->open();
}
size_t HttpBackend::mostOpenConnections() const {
  return impl_->mostOpen();
}

struct TcpBackend::Impl : BackendCore {
  using BackendCore::BackendCore;
};

TcpBackend::TcpBackend(const std::string& address, uint16_t port)
    : impl_(std::make_unique<Impl>(BackendCore::Kind::kTcp, address, port, std::nullopt)) {}
TcpBackend::~TcpBackend() = default;

const std::string& TcpBackend::address() const {
  return impl_->address();
}
uint16_t TcpBackend::port() const {
  return impl_->port();
}
void TcpBackend::stop() {
  impl_->stop();
}
void TcpBackend::start() {
  impl_->start();
}
bool TcpBackend::listening() const {
  return impl_->listening();
}
size_t TcpBackend::accepted() const {
  return impl_->accepted();
}

// ---------------------------------------------------------------------------------------------

namespace {

template <class Backend, class... Extra>
std::vector<std::unique_ptr<Backend>> onOnePort(const std::vector<std::string>& addresses,
                                                const Extra&... extra) {
  std::string last_error;
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::vector<std::unique_ptr<Backend>> out;
    try {
      uint16_t port = 0;
      for (const auto& a : addresses) {
        out.push_back(std::make_unique<Backend>(a, port, extra...));
        port = out.front()->port();
      }
      return out;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  throw std::runtime_error("no common free port for the backends: " + last_error);
}

}  // namespace

std::vector<std::unique_ptr<HttpBackend>> httpBackendsOnOnePort(
    const std::vector<std::string>& addresses, std::optional<TlsFiles> tls) {
  return onOnePort<HttpBackend>(addresses, tls);
}

std::vector<std::unique_ptr<TcpBackend>> tcpBackendsOnOnePort(
    const std::vector<std::string>& addresses) {
  return onOnePort<TcpBackend>(addresses);
}

}  // namespace understudy::systest
