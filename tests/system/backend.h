// Small real backends for the failover system tests: an HTTP/1.1 (optionally HTTPS) server and a
// plain TCP listener, each on a loopback address and port of the test's choosing, served from its
// own thread (Boost.Asio). The test switches their behaviour at runtime; every switch has taken
// effect when the call returns, so a test never needs to sleep after one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace understudy::systest {

// A certificate chain and its key (PEM file paths) for an HTTPS backend.
struct TlsFiles {
  std::string cert;
  std::string key;
};

// Paths of the checked-in test PKI under tests/data/tls (see generate.sh there).
std::string tlsDataPath(const std::string& name);

// What the backend does with a request.
enum class HttpMode {
  kOk,         // 200, body "OK"
  kStatus,     // the configured status, body "status N"
  kWrongBody,  // 200, body "maintenance"
  kHang,       // accept and read the request, never answer (until stop())
  kAlternate,  // 200 "OK", then 503, then 200 "OK", ... one per request: flaps on every probe
  kSlow,       // 200 "OK" after a delay: a healthy backend whose probes take a while
};

class HttpBackend {
 public:
  // Binds address:port (port 0: the OS chooses) and starts serving 200 "OK". With `tls`, speaks
  // HTTPS. Throws std::runtime_error when the address cannot be bound.
  HttpBackend(const std::string& address, uint16_t port = 0,
              std::optional<TlsFiles> tls = std::nullopt);
  ~HttpBackend();
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  const std::string& address() const;
  uint16_t port() const;
  // "127.0.0.11:4242", "[::1]:4242"
  std::string endpoint() const;

  void ok();
  void status(int code);
  void wrongBody();
  void hang();
  void alternate();
  // 200 "OK", each answer `delay` after its request arrived.
  void slow(std::chrono::milliseconds delay);
  // Closes the listening socket and every open connection: connects are refused from here on.
  void stop();
  // Listens again on the same address and port (keeps the mode). Throws when it cannot bind.
  void start();
  bool listening() const;

  // Requests whose header was completely received, whatever the answer.
  size_t requests() const;
  // The Host header of every request, in order ("" when a request had none).
  std::vector<std::string> hostHeaders() const;
  // The request lines ("GET /health HTTP/1.1"), in order.
  std::vector<std::string> requestLines() const;
  // Polls until requests() >= n.
  bool waitForRequests(size_t n, std::chrono::milliseconds timeout) const;
  // Connections open right now, and the most that were ever open at once (from accept until
  // the client closes): two probes of this backend in flight at once show up as 2.
  size_t openConnections() const;
  size_t mostOpenConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A TCP listener that accepts connections and closes them at once (a TCP check only connects).
class TcpBackend {
 public:
  TcpBackend(const std::string& address, uint16_t port = 0);
  ~TcpBackend();
  TcpBackend(const TcpBackend&) = delete;
  TcpBackend& operator=(const TcpBackend&) = delete;

  const std::string& address() const;
  uint16_t port() const;
  void stop();
  void start();
  bool listening() const;
  size_t accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Backends on one port at several addresses (a check has a single port; the endpoints differ by
// probe address). Retries with another port when one of the addresses has it taken.
std::vector<std::unique_ptr<HttpBackend>> httpBackendsOnOnePort(
    const std::vector<std::string>& addresses, std::optional<TlsFiles> tls = std::nullopt);
std::vector<std::unique_ptr<TcpBackend>> tcpBackendsOnOnePort(
    const std::vector<std::string>& addresses);

}  // namespace understudy::systest
