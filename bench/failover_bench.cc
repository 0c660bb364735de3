// Failover benchmarks for understudy (bench/README.md). Not a test: it measures and prints.
//
//   failover_bench latency --daemon PATH --interval-ms 1000 --fall 3 --timeout-ms 500 --reps 5
//     Time from stopping the primary's HTTP backend (its socket closes: connect refused) to the
//     first DNS answer naming the secondary, `reps` times, printed beside the configured bound
//     interval x fall + timeout. Each stop happens at a random phase of the probe interval.
//
//   failover_bench cpu --daemon PATH --endpoints 10000 --seconds 30
//     The daemon's CPU use (utime + stime from /proc/PID/task/TID/stat, per thread) while it
//     probes `endpoints` endpoints every second, each at its own 127.x.y.z address, all answered
//     by one local HTTP server listening on 0.0.0.0 (the loopback /8 reaches it at any address).
//
//   failover_bench routes --daemon PATH --pools 100,2000 --requests 200 [--interval-ms 10000]
//     The cost of the control endpoint's read routes against the size of the configuration
//     (issue 12): for each pool count P, a daemon with P pools of 2 endpoints (one pooled A record
//     each, every endpoint probed over HTTP at its own 127.1.x.y); all run at once and are asked
//     in turn, `requests` timed GETs each of /explain (one name), /status and /metrics, over one
//     keep-alive HTTP/1.1 connection per daemon. Printed per P and route: mean and median wall
//     ms, the control thread's CPU ms and queued ms per request (/proc/PID/task/TID/schedstat)
//     and the response bytes; then the ratios between the largest and the smallest P. Exits 1
//     if a request fails or answers other than 200.
//
// Self-contained on purpose (Boost.Asio, Boost.Beast and POSIX only): it talks to the daemon as
// an operator would, through a config file, its log, DNS and the control endpoint.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (C++20 mode).
#include <utility>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::cerr << "failover_bench: " << what << "\n";
  std::exit(2);
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 server: one response per connection, "200 OK" with body "OK", or, when
// stopped, no listening socket at all. One thread; fast enough for ~10^4 connections/s.

class HttpServer {
 public:
  HttpServer(std::string address, uint16_t port)
      : address_(std::move(address)), port_(port), work_(asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
    start();
  }
  ~HttpServer() {
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }

  void start() {
    onIo([this] {
      tcp::endpoint ep(asio::ip::make_address(address_), port_);
      acceptor_.emplace(io_);
      acceptor_->open(ep.protocol());
      acceptor_->set_option(asio::socket_base::reuse_address(true));
      acceptor_->bind(ep);
      acceptor_->listen(asio::socket_base::max_listen_connections);
      port_ = acceptor_->local_endpoint().port();
      accept(++generation_);
    });
  }

  void stop() {
    onIo([this] {
      ++generation_;
      if (acceptor_) {
        error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
      }
    });
  }

 private:
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(tcp::socket s, std::atomic<uint64_t>& n) : socket(std::move(s)), requests(n) {}
    void read() {
      auto self = shared_from_this();
      socket.async_read_some(asio::buffer(buf.data() + used, buf.size() - used),
                             [self](error_code ec, size_t n) { self->onRead(ec, n); });
    }
    void onRead(error_code ec, size_t n) {
      if (ec) return;
      used += n;
      std::string_view seen(buf.data(), used);
      if (seen.find("\r\n\r\n") == std::string_view::npos) {
        if (used == buf.size()) return;  // oversized header: drop
        return read();
      }
      ++requests;
      static const std::string kResponse =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
          "Connection: close\r\n\r\nOK";
      auto self = shared_from_this();
      asio::async_write(socket, asio::buffer(kResponse), [self](error_code, size_t) {
        error_code ignored;
        self->socket.shutdown(tcp::socket::shutdown_both, ignored);
        self->socket.close(ignored);
      });
    }
    tcp::socket socket;
    std::atomic<uint64_t>& requests;
    std::array<char, 4096> buf;
    size_t used = 0;
  };

  template <class F>
  void onIo(F f) {
    std::promise<void> done;
    auto fut = done.get_future();
    asio::post(io_, [&] {
      try {
        f();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    fut.get();
  }

  void accept(uint64_t generation) {
    acceptor_->async_accept([this, generation](error_code ec, tcp::socket s) {
      if (generation != generation_ || !acceptor_) return;
      if (!ec) {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Conn>(std::move(s), requests_)->read();
      }
      accept(generation);
    });
  }

  std::string address_;
  uint16_t port_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<tcp::acceptor> acceptor_;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// DNS: one A query over UDP, the answer's addresses.

std::vector<uint8_t> buildQuery(const std::string& name, uint16_t id) {
  std::vector<uint8_t> q = {
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::istringstream in(name);
  std::string label;
  while (std::getline(in, label, '.')) {
    if (label.empty()) continue;
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});  // root, type A, class IN
  return q;
}

size_t skipName(const uint8_t* p, size_t len, size_t at) {
  while (at < len) {
    uint8_t l = p[at];
    if ((l & 0xc0) == 0xc0) return at + 2;
    if (l == 0) return at + 1;
    at += 1 + l;
  }
  return len + 1;
}

// "192.0.2.10,192.0.2.20" (sorted), "rcode N", or "" when no answer came within the timeout.
std::string queryA(udp::socket& sock, const udp::endpoint& server, const std::string& name,
                   std::chrono::milliseconds timeout) {
  static uint16_t id = 1;
  ++id;
  auto q = buildQuery(name, id);
  error_code ec;
  sock.send_to(asio::buffer(q), server, 0, ec);
  if (ec) return "";
  auto deadline = Clock::now() + timeout;
  std::array<uint8_t, 4096> buf;
  while (Clock::now() < deadline) {
    pollfd p{sock.native_handle(), POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (poll(&p, 1, std::max(left, 1)) != 1) continue;
    size_t n = sock.receive(asio::buffer(buf), 0, ec);
    if (ec || n < 12) continue;
    if (((buf[0] << 8) | buf[1]) != id) continue;  // a late answer to an earlier query
    int rcode = buf[3] & 0x0f;
    if (rcode != 0) return "rcode " + std::to_string(rcode);
    unsigned qd = (buf[4] << 8) | buf[5], an = (buf[6] << 8) | buf[7];
    size_t at = 12;
    for (unsigned i = 0; i < qd; ++i) at = skipName(buf.data(), n, at) + 4;
    std::vector<std::string> out;
    for (unsigned i = 0; i < an && at < n; ++i) {
      at = skipName(buf.data(), n, at);
      if (at + 10 > n) break;
      unsigned type = (buf[at] << 8) | buf[at + 1];
      unsigned rdlen = (buf[at + 8] << 8) | buf[at + 9];
      at += 10;
      if (type == 1 && rdlen == 4 && at + 4 <= n) {
        out.push_back(std::to_string(buf[at]) + "." + std::to_string(buf[at + 1]) + "." +
                      std::to_string(buf[at + 2]) + "." + std::to_string(buf[at + 3]));
      }
      at += rdlen;
    }
    std::sort(out.begin(), out.end());
    std::string s;
    for (const auto& a : out) s += (s.empty() ? "" : ",") + a;
    return s;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// The daemon: started from a config file, stderr to a log file; ready when it logs "ready:".

class Daemon {
 public:
  Daemon(const std::string& binary, const std::string& config, const std::string& log,
         std::chrono::seconds ready_timeout)
      : log_(log) {
    pid_ = fork();
    if (pid_ < 0) die("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      close_range(3, ~0U, 0);  // the HTTP server's sockets stay with the bench
      execl(binary.c_str(), binary.c_str(), "-c", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = Clock::now() + ready_timeout;
    while (Clock::now() < deadline) {
      std::string text = logText();
      auto at = text.find("ready:");
      if (at != std::string::npos) {
        auto port_at = text.find("listening on udp 127.0.0.1:");
        if (port_at == std::string::npos) die("no UDP listener in the log:\n" + text);
        port_ = static_cast<uint16_t>(std::stoul(text.substr(port_at + 27)));
        return;
      }
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) die("the daemon exited; log:\n" + text);
      std::this_thread::sleep_for(20ms);
    }
    die("the daemon did not become ready; log:\n" + logText());
  }
  ~Daemon() {
    kill(pid_, SIGTERM);
    int st;
    for (int i = 0; i < 500 && waitpid(pid_, &st, WNOHANG) != pid_; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &st, 0);
  }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  // The control endpoint's port, from "control listening on 127.0.0.1:PORT"; 0 if none.
  uint16_t controlPort() const {
    static const std::string kLine = "control listening on 127.0.0.1:";
    std::string text = logText();
    auto at = text.find(kLine);
    return at == std::string::npos
               ? 0
               : static_cast<uint16_t>(std::stoul(text.substr(at + kLine.size())));
  }
  std::string logText() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

std::string tempDir() {
  std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  tmpl += "/understudy-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) die("mkdtemp failed");
  return tmpl;
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) die("cannot write " + path);
}

std::map<std::string, std::string> parseArgs(int argc, char** argv, int from) {
  std::map<std::string, std::string> out;
  for (int i = from; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) die("bad argument " + key);
    out[key.substr(2)] = argv[i + 1];
  }
  return out;
}

long argInt(const std::map<std::string, std::string>& args, const std::string& key, long def) {
  auto it = args.find(key);
  return it == args.end() ? def : std::stol(it->second);
}

// ---------------------------------------------------------------------------------------------

int latency(const std::map<std::string, std::string>& args) {
  const std::string daemon_path = args.at("daemon");
  const long interval = argInt(args, "interval-ms", 1000);
  const long fall = argInt(args, "fall", 3);
  const long timeout = argInt(args, "timeout-ms", 500);
  const long reps = argInt(args, "reps", 5);
  const long bound = interval * fall + timeout;

  // Primary probed at 127.0.0.11, secondary at 127.0.0.12, one check (one port).
  std::unique_ptr<HttpServer> primary, secondary;
  for (int attempt = 0; attempt < 20 && !secondary; ++attempt) {
    try {
      primary = std::make_unique<HttpServer>("127.0.0.11", 0);
      secondary = std::make_unique<HttpServer>("127.0.0.12", primary->port());
    } catch (const std::exception&) {
      primary.reset();
    }
  }
  if (!secondary) die("no common free port on 127.0.0.11 and 127.0.0.12");

  std::string dir = tempDir();
  std::ostringstream cfg;
  cfg << "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n"
      << "log: { level: info }\n"
      << "checks:\n"
      << "  web: { type: http, port: " << primary->port()
      << ", path: /health, interval: " << interval << "ms, timeout: " << timeout
      << "ms, rise: 2, fall: " << fall << " }\n"
      << "pools:\n"
      << "  app:\n"
      << "    check: web\n"
      << "    endpoints:\n"
      << "      - { address: 192.0.2.10, probe_address: 127.0.0.11, priority: 1 }\n"
      << "      - { address: 192.0.2.20, probe_address: 127.0.0.12, priority: 2 }\n"
      << "zones:\n"
      << "  - name: bench.test\n"
      << "    records:\n"
      << "      - { name: app, type: A, pool: app, ttl: 300, failover_ttl: 20 }\n";
  writeFile(dir + "/bench.yaml", cfg.str());
  Daemon daemon(daemon_path, dir + "/bench.yaml", dir + "/daemon.log", 30s);

  asio::io_context io;
  udp::socket sock(io, udp::endpoint(udp::v4(), 0));
  udp::endpoint server(asio::ip::make_address("127.0.0.1"), daemon.port());
  auto waitFor = [&](const std::string& want, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (queryA(sock, server, "app.bench.test", 500ms) == want) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  };

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<long> phase(0, interval - 1);
  std::vector<double> samples;
  std::printf("failover latency, interval %ldms, fall %ld, timeout %ldms (bound %ld ms):\n",
              interval, fall, timeout, bound);
  for (long rep = 0; rep < reps; ++rep) {
    if (!waitFor("192.0.2.10", std::chrono::milliseconds(bound * 4 + 5000))) {
      die("the primary is not being answered; log:\n" + daemon.logText());
    }
    // A random phase relative to the probe schedule.
    std::this_thread::sleep_for(std::chrono::milliseconds(interval + phase(rng)));
    auto stopped = Clock::now();
    primary->stop();
    // Query back to back (each query is ~0.1 ms on loopback) until the secondary is named.
    std::string got;
    while (Clock::now() - stopped < std::chrono::milliseconds(bound * 4 + 5000)) {
      got = queryA(sock, server, "app.bench.test", 500ms);
      if (got == "192.0.2.20") break;
    }
    auto took = Clock::now() - stopped;
    if (got != "192.0.2.20") die("no failover; log:\n" + daemon.logText());
    samples.push_back(ms(took));
    std::printf("  rep %ld: %8.1f ms\n", rep + 1, ms(took));
    std::fflush(stdout);
    primary->start();
  }
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted.size() % 2
                      ? sorted[sorted.size() / 2]
                      : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  std::printf(
      "  RESULT interval=%ldms fall=%ld timeout=%ldms: median %.1f ms, max %.1f ms, "
      "bound (interval x fall + timeout) %ld ms%s\n",
      interval, fall, timeout, median, sorted.back(), bound,
      sorted.back() <= static_cast<double>(bound) ? "" : "  ** max above bound **");
  std::filesystem::remove_all(dir);
  return 0;
}

// ---------------------------------------------------------------------------------------------

struct TaskTimes {
  std::string comm;
  uint64_t ticks = 0;  // utime + stime
};

std::map<int, TaskTimes> taskTimes(pid_t pid) {
  std::map<int, TaskTimes> out;
  std::string base = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& e : std::filesystem::directory_iterator(base)) {
    std::ifstream in(e.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    TaskTimes t;
    t.comm = text.substr(open + 1, close - open - 1);
    std::istringstream rest(text.substr(close + 2));
    std::vector<std::string> f;
    std::string field;
    while (rest >> field) f.push_back(field);
    // After "(comm)": state is field 3 of stat(5), utime 14, stime 15 -> indices 11, 12 here.
    if (f.size() < 13) continue;
    t.ticks = std::stoull(f[11]) + std::stoull(f[12]);
    out[std::stoi(e.path().filename().string())] = t;
  }
  return out;
}

int cpu(const std::map<std::string, std::string>& args) {
  const std::string daemon_path = args.at("daemon");
  const long endpoints = argInt(args, "endpoints", 10000);
  const long seconds = argInt(args, "seconds", 30);
  const long warmup = argInt(args, "warmup", 5);
  const long per_pool = 100;

  // 0.0.0.0: the only way one socket answers 10,000 distinct 127.x.y.z probe addresses.
  HttpServer http("0.0.0.0", 0);
  std::string dir = tempDir();
  std::ostringstream cfg;
  cfg << "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n"
      << "log: { level: info }\n"
      << "checks:\n"
      << "  web: { type: http, port: " << http.port()
      << ", path: /health, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }\n"
      << "pools:\n";
  long pools = (endpoints + per_pool - 1) / per_pool;
  for (long p = 0, n = 0; p < pools; ++p) {
    cfg << "  p" << p << ":\n    policy: all\n    check: web\n    endpoints:\n";
    for (long i = 0; i < per_pool && n < endpoints; ++i, ++n) {
      // Answered 198.18.x.y (benchmarking range), probed at 127.1.x.y.
      long hi = 1 + n / 250, lo = 1 + n % 250;
      cfg << "      - { address: 198.18." << hi << "." << lo << ", probe_address: 127.1." << hi
          << "." << lo << " }\n";
    }
  }
  cfg << "zones:\n  - name: bench.test\n    records:\n";
  for (long p = 0; p < pools; ++p) {
    cfg << "      - { name: p" << p << ", type: A, pool: p" << p << ", ttl: 300 }\n";
  }
  writeFile(dir + "/bench.yaml", cfg.str());

  auto started = Clock::now();
  Daemon daemon(daemon_path, dir + "/bench.yaml", dir + "/daemon.log", 120s);
  std::printf("health CPU, %ld endpoints probed every 1s (HTTP GET, one local server):\n",
              endpoints);
  std::printf("  daemon ready after %.0f ms\n", ms(Clock::now() - started));
  // The start-up milestones, with the daemon's own timestamps.
  std::istringstream log(daemon.logText());
  for (std::string line; std::getline(log, line);) {
    for (const char* milestone : {" starting with ", "first health round done:", " ready: "}) {
      if (line.find(milestone) != std::string::npos) std::printf("  log: %s\n", line.c_str());
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(warmup));

  long hz = sysconf(_SC_CLK_TCK);
  auto before = taskTimes(daemon.pid());
  uint64_t req_before = http.requests();
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  auto after = taskTimes(daemon.pid());
  size_t fds = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(daemon.pid()) + "/fd")) {
    ++fds;
  }
  uint64_t req_after = http.requests();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  uint64_t total = 0;
  int busiest = -1;
  uint64_t busiest_ticks = 0;
  std::printf("  per thread over %.1f s (ticks of 1/%ld s):\n", wall, hz);
  for (const auto& [tid, a] : after) {
    auto b = before.find(tid);
    uint64_t d = a.ticks - (b == before.end() ? 0 : b->second.ticks);
    total += d;
    if (d >= busiest_ticks) {
      busiest_ticks = d;
      busiest = tid;
    }
    std::printf("    tid %d (%s)%s: %llu ticks = %.1f%% of one core\n", tid, a.comm.c_str(),
                tid == daemon.pid() ? " [main]" : "", static_cast<unsigned long long>(d),
                100.0 * static_cast<double>(d) / static_cast<double>(hz) / wall);
  }
  double rate = static_cast<double>(req_after - req_before) / wall;
  std::printf("  probes answered by the HTTP server: %.0f/s (expected ~%ld/s)\n", rate, endpoints);
  std::printf("  daemon's open descriptors at the end (~ probes in flight): %zu\n", fds);
  std::string final_log = daemon.logText();
  size_t downs = 0;
  for (size_t at = final_log.find("-> down"); at != std::string::npos;
       at = final_log.find("-> down", at + 1)) {
    ++downs;
  }
  std::printf("  endpoints that went down during the run: %zu\n", downs);
  std::printf(
      "  RESULT endpoints=%ld: health thread (tid %d, busiest) %.1f%% of one core; whole daemon "
      "%.1f%%\n",
      endpoints, busiest,
      100.0 * static_cast<double>(busiest_ticks) / static_cast<double>(hz) / wall,
      100.0 * static_cast<double>(total) / static_cast<double>(hz) / wall);
  std::filesystem::remove_all(dir);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Control routes: one keep-alive HTTP/1.1 client (Beast, synchronous, every exchange bounded).

class ControlClient {
 public:
  struct Reply {
    int status = 0;
    size_t bytes = 0;  // body
    std::string body;
  };

  explicit ControlClient(uint16_t port) : port_(port) {
    host_ = "127.0.0.1:";
    host_.append(std::to_string(port));
  }

  Reply get(const std::string& target) {
    if (!stream_) connect();
    stream_->expires_after(30s);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host_);
    req.keep_alive(true);
    http::write(*stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(512 * 1024 * 1024);
    http::read(*stream_, buffer_, parser);
    Reply reply;
    reply.status = parser.get().result_int();
    reply.body = std::move(parser.get().body());
    reply.bytes = reply.body.size();
    if (!parser.get().keep_alive()) {  // the endpoint's per-connection cap: open the next one
      error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.reset();
      buffer_.clear();
    }
    return reply;
  }

  unsigned connections() const { return connections_; }

 private:
  void connect() {
    stream_.emplace(io_);
    stream_->expires_after(10s);
    stream_->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    stream_->socket().set_option(tcp::no_delay(true));
    ++connections_;
  }

  uint16_t port_;
  std::string host_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  unsigned connections_ = 0;
};

struct RouteTimes {
  double mean_ms = 0, median_ms = 0;  // wall time per request, as the client saw it
  double cpu_ms = 0;                  // the control thread's CPU per request
  double wait_ms = 0;                 // ... and its time runnable but not running, per request
  double bytes = 0;                   // response body, mean
};

struct RouteRun {
  long pools = 0;
  double ready_ms = 0;
  double probes_per_s = 0;   // answered by the backend while the routes were timed
  size_t down_at_start = 0;  // endpoints whose first probe failed
  size_t went_down = 0;      // "up -> down" transitions while the routes were timed
  double health_idle = 0;    // the health (main) thread before the requests, % of one core
  double health_timed = 0;   // the same while the routes were timed
  std::map<std::string, RouteTimes> routes;  // "explain", "status", "metrics"
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Per thread of `pid`, from /proc/PID/task/TID/schedstat (nanoseconds; clock ticks of 10 ms are
// too coarse for a 30 µs request): how long it has run on a CPU, and how long it has waited,
// runnable, for one (on a shared machine, the part of a request's time that is other work's).
struct SchedTimes {
  uint64_t run_ns = 0, wait_ns = 0;
};

std::map<int, SchedTimes> runNanos(pid_t pid) {
  std::map<int, SchedTimes> out;
  std::string base = "/proc/";
  base.append(std::to_string(pid)).append("/task");
  for (const auto& e : std::filesystem::directory_iterator(base)) {
    std::ifstream in(e.path() / "schedstat");
    SchedTimes t;
    if (in >> t.run_ns >> t.wait_ns) out[std::stoi(e.path().filename().string())] = t;
  }
  return out;
}

uint64_t ranBetween(const std::map<int, SchedTimes>& before, const std::map<int, SchedTimes>& after,
                    int tid, bool waited = false) {
  auto a = after.find(tid);
  if (a == after.end()) return 0;
  auto b = before.find(tid);
  SchedTimes from = b == before.end() ? SchedTimes{} : b->second;
  return waited ? a->second.wait_ns - from.wait_ns : a->second.run_ns - from.run_ns;
}

std::vector<long> parseList(const std::string& text) {
  std::vector<long> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(std::stol(item));
  }
  return out;
}

std::string routesConfig(long pools, uint16_t backend_port, long interval) {
  std::ostringstream cfg;
  cfg << "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n"
      << "log: { level: info }\n"
      << "control: { listen: \"127.0.0.1:0\" }\n"
      << "checks:\n"
      << "  web: { type: http, port: " << backend_port << ", path: /health, interval: " << interval
      << "ms, timeout: " << std::min(2000L, interval / 2) << "ms, rise: 2, fall: 3 }\n"
      << "pools:\n";
  for (long p = 0; p < pools; ++p) {
    cfg << "  p" << p << ":\n    policy: priority\n    check: web\n    endpoints:\n";
    for (long i = 0; i < 2; ++i) {
      // Answered 198.18.x.y (benchmarking range), probed at 127.1.x.y.
      long n = 2 * p + i, hi = 1 + n / 250, lo = 1 + n % 250;
      cfg << "      - { address: 198.18." << hi << "." << lo << ", probe_address: 127.1." << hi
          << "." << lo << ", priority: " << (i + 1) << " }\n";
    }
  }
  cfg << "zones:\n  - name: bench.test\n    records:\n";
  for (long p = 0; p < pools; ++p) {
    cfg << "      - { name: p" << p << ", type: A, pool: p" << p
        << ", ttl: 300, failover_ttl: 20 }\n";
  }
  return cfg.str();
}

// One daemon of the `routes` benchmark, with its own backend, directory and client.
struct RouteSubject {
  long pools = 0;
  std::unique_ptr<HttpServer> backend;
  std::string dir;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<ControlClient> client;
  std::string name;  // the pooled name /explain asks for
  std::vector<std::string> targets;
  RouteRun run;
  ~RouteSubject() {
    daemon.reset();  // stopped (SIGTERM, then SIGKILL) before its directory goes
    if (dir.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// All the daemons run at once and are asked in turn, request by request (ascending and
// descending P on alternate rounds): whatever else the machine does meanwhile falls on every P
// alike, so the ratios between them hold on a shared machine even when the absolute times move.
std::vector<RouteRun> routesRun(const std::string& daemon_path,
                                const std::vector<long>& pool_counts, long requests, long warmup,
                                long interval, long settle, bool keep) {
  const std::vector<std::string> routes = {"explain", "status", "metrics"};
  std::vector<std::unique_ptr<RouteSubject>> subjects;
  for (long pools : pool_counts) {
    auto s = std::make_unique<RouteSubject>();
    s->pools = pools;
    s->run.pools = pools;
    // Every endpoint has its own probe address (127.1.x.y), answered by a server on 0.0.0.0, as
    // in `cpu`: one probe target per endpoint, as a real fleet has.
    s->backend = std::make_unique<HttpServer>("0.0.0.0", 0);
    std::string dir = tempDir();
    if (keep) {
      std::printf("  (P=%ld: config and daemon log kept in %s)\n", pools, dir.c_str());
    } else {
      s->dir = dir;  // removed with the subject
    }
    writeFile(dir + "/bench.yaml", routesConfig(pools, s->backend->port(), interval));
    auto started = Clock::now();
    s->daemon =
        std::make_unique<Daemon>(daemon_path, dir + "/bench.yaml", dir + "/daemon.log", 300s);
    s->run.ready_ms = ms(Clock::now() - started);
    uint16_t control = s->daemon->controlPort();
    if (control == 0) {
      std::string why = "no control listener in the log:\n";
      die(why.append(s->daemon->logText()));
    }
    s->client = std::make_unique<ControlClient>(control);
    // The last pool's record: an index finds it as fast as the first; a scan would not.
    s->name = "p";
    s->name.append(std::to_string(pools - 1)).append(".bench.test");
    std::string explain = "/explain?name=";
    explain.append(s->name).append("&type=A");
    s->targets = {explain, "/status", "/metrics"};
    subjects.push_back(std::move(s));
  }

  auto fetch = [](RouteSubject& s, size_t route, bool first) {
    const std::string& target = s.targets[route];
    std::string why = "P=";
    why.append(std::to_string(s.pools)).append(": GET ").append(target);
    ControlClient::Reply reply;
    try {
      reply = s.client->get(target);
    } catch (const std::exception& e) {
      throw std::runtime_error(why.append(": ").append(e.what()));
    }
    if (reply.status != 200) {
      why.append(" answered ").append(std::to_string(reply.status)).append(": ");
      throw std::runtime_error(why.append(reply.body.substr(0, 500)));
    }
    // /explain and /status name the record; /metrics names pools and endpoints only.
    if (first && target != "/metrics" && reply.body.find(s.name) == std::string::npos) {
      throw std::runtime_error(why.append(" does not mention ").append(s.name));
    }
    return reply;
  };

  // Past the start-up: the first probe round and the status copies it publishes. The health
  // thread (each daemon's main thread) meanwhile, over two probe intervals by default: its CPU
  // with no request to the endpoint, to compare with its CPU while the routes are timed.
  std::vector<std::map<int, SchedTimes>> idle;
  for (auto& s : subjects) idle.push_back(runNanos(s->daemon->pid()));
  auto idle_t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(settle));
  double idle_s = std::chrono::duration<double>(Clock::now() - idle_t0).count();
  std::vector<size_t> downs_before;
  std::vector<uint64_t> probes_before;
  for (size_t d = 0; d < subjects.size(); ++d) {
    RouteSubject& s = *subjects[d];
    pid_t pid = s.daemon->pid();
    s.run.health_idle =
        100.0 * static_cast<double>(ranBetween(idle[d], runNanos(pid), pid)) / 1e9 / idle_s;
    std::string log = s.daemon->logText();
    s.run.down_at_start = count(log, "down at start");
    downs_before.push_back(count(log, "-> down"));
    probes_before.push_back(s.backend->requests());
  }

  // cpu[d][2r], cpu[d][2r + 1]: daemon d's threads before and after route r's timed requests.
  std::vector<std::vector<std::map<int, SchedTimes>>> cpu(subjects.size());
  std::vector<std::vector<std::vector<double>>> samples(
      subjects.size(), std::vector<std::vector<double>>(routes.size()));
  std::vector<std::vector<double>> bytes(subjects.size(), std::vector<double>(routes.size(), 0));
  double timed_s = 0;
  for (size_t r = 0; r < routes.size(); ++r) {
    for (long i = 0; i < warmup; ++i) {
      for (auto& s : subjects) fetch(*s, r, i == 0);
    }
    for (size_t d = 0; d < subjects.size(); ++d) {
      cpu[d].push_back(runNanos(subjects[d]->daemon->pid()));
    }
    auto block = Clock::now();
    for (long i = 0; i < requests; ++i) {
      for (size_t k = 0; k < subjects.size(); ++k) {
        size_t d = i % 2 ? subjects.size() - 1 - k : k;
        auto begin = Clock::now();
        ControlClient::Reply reply = fetch(*subjects[d], r, warmup == 0 && i == 0);
        samples[d][r].push_back(ms(Clock::now() - begin));
        bytes[d][r] += static_cast<double>(reply.bytes);
      }
    }
    timed_s += std::chrono::duration<double>(Clock::now() - block).count();
    for (size_t d = 0; d < subjects.size(); ++d) {
      cpu[d].push_back(runNanos(subjects[d]->daemon->pid()));
    }
  }

  std::vector<RouteRun> runs;
  for (size_t d = 0; d < subjects.size(); ++d) {
    RouteSubject& s = *subjects[d];
    pid_t pid = s.daemon->pid();
    RouteRun& run = s.run;
    run.probes_per_s = static_cast<double>(s.backend->requests() - probes_before[d]) / timed_s;
    run.went_down = count(s.daemon->logText(), "-> down") - downs_before[d];
    // The control thread: of the threads other than the main (health) thread, the one that ran
    // most while the routes were timed (the others serve DNS, and nobody asks them anything).
    int control_tid = -1;
    uint64_t most = 0, health = 0;
    for (const auto& [tid, times] : cpu[d].back()) {
      uint64_t ran = 0;
      for (size_t r = 0; r < routes.size(); ++r) {
        ran += ranBetween(cpu[d][2 * r], cpu[d][2 * r + 1], tid);
      }
      if (tid == pid) {
        health = ran;
      } else if (ran >= most) {
        most = ran;
        control_tid = tid;
      }
    }
    run.health_timed = 100.0 * static_cast<double>(health) / 1e9 / timed_s;
    for (size_t r = 0; r < routes.size(); ++r) {
      std::vector<double>& x = samples[d][r];
      std::sort(x.begin(), x.end());
      RouteTimes t;
      for (double v : x) t.mean_ms += v / static_cast<double>(x.size());
      size_t n = x.size();
      t.median_ms = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
      const auto& before = cpu[d][2 * r];
      const auto& after = cpu[d][2 * r + 1];
      t.cpu_ms = static_cast<double>(ranBetween(before, after, control_tid)) / 1e6 /
                 static_cast<double>(requests);
      t.wait_ms = static_cast<double>(ranBetween(before, after, control_tid, true)) / 1e6 /
                  static_cast<double>(requests);
      t.bytes = bytes[d][r] / static_cast<double>(requests);
      run.routes[routes[r]] = t;
    }
    if (s.client->connections() > 1) {
      std::printf("  (P=%ld: %u connections: the endpoint closes one after 1000 requests)\n",
                  s.pools, s.client->connections());
    }
    runs.push_back(run);
  }
  return runs;
}

int routes(const std::map<std::string, std::string>& args) {
  const std::string daemon_path = args.at("daemon");
  auto it = args.find("pools");
  std::vector<long> pool_counts = parseList(it == args.end() ? "100,2000" : it->second);
  const long requests = argInt(args, "requests", 200);
  const long warmup = argInt(args, "warmup", 5);
  const long interval = argInt(args, "interval-ms", 10000);
  const long settle = argInt(args, "settle-ms", std::max(2000L, 2 * interval));
  const bool keep = argInt(args, "keep", 0) != 0;
  if (pool_counts.empty() || requests < 1 || warmup < 0 || interval < 100 || settle < 0) {
    die("routes needs --pools N[,N...], --requests >= 1, --interval-ms >= 100, --settle-ms >= 0");
  }
  for (long p : pool_counts) {
    if (p < 1 || p > 30000) die("--pools: each count must be 1..30000");
  }

  std::printf(
      "control routes: P pools of 2 endpoints (priority 1 and 2), one pooled A record each, "
      "HTTP check every %ld ms;\none daemon per P, all running, asked in turn: %ld timed GETs "
      "per route and P (after %ld untimed), one keep-alive HTTP/1.1 connection per daemon\n",
      interval, requests, warmup);
  std::printf("  %6s  %-8s %9s %10s %9s %9s %10s %11s\n", "P", "route", "mean ms", "median ms",
              "CPU ms", "queued ms", "bytes", "CPU ms/MB");
  std::fflush(stdout);
  std::vector<RouteRun> runs;
  try {
    runs = routesRun(daemon_path, pool_counts, requests, warmup, interval, settle, keep);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "failover_bench routes: %s\n", e.what());
    return 1;
  }
  for (RouteRun& run : runs) {
    for (const char* route : {"explain", "status", "metrics"}) {
      const RouteTimes& t = run.routes[route];
      std::printf("  %6ld  %-8s %9.3f %10.3f %9.3f %9.3f %10.0f %11.2f\n", run.pools, route,
                  t.mean_ms, t.median_ms, t.cpu_ms, t.wait_ms, t.bytes, t.cpu_ms / (t.bytes / 1e6));
    }
    std::printf(
        "  %6s  (ready after %.0f ms; health thread %.0f%% of a core idle, %.0f%% while timed; "
        "%.0f probes/s answered while timed; endpoints down at start %zu, went down while "
        "timed %zu)\n",
        "", run.ready_ms, run.health_idle, run.health_timed, run.probes_per_s, run.down_at_start,
        run.went_down);
  }
  if (runs.size() < 2) return 0;
  auto [small, large] =
      std::minmax_element(runs.begin(), runs.end(),
                          [](const RouteRun& a, const RouteRun& b) { return a.pools < b.pools; });
  if (small->pools == large->pools) return 0;
  std::printf("ratios, P=%ld / P=%ld (x%.1f the pools):\n", large->pools, small->pools,
              static_cast<double>(large->pools) / static_cast<double>(small->pools));
  for (const char* route : {"explain", "status", "metrics"}) {
    const RouteTimes& a = small->routes[route];
    const RouteTimes& b = large->routes[route];
    double median = b.median_ms / a.median_ms, mean = b.mean_ms / a.mean_ms;
    double cpu = b.cpu_ms / a.cpu_ms, bytes = b.bytes / a.bytes;
    if (std::string(route) == "explain") {
      std::printf(
          "  RESULT explain: time x%.2f (median), x%.2f (mean), CPU x%.2f; bytes x%.2f  "
          "(does not grow with the pools: ~1)\n",
          median, mean, cpu, bytes);
    } else {
      std::printf(
          "  RESULT %s: time x%.1f (median), x%.1f (mean), CPU x%.1f; bytes x%.1f; "
          "time/bytes %.2f, CPU/bytes %.2f  (linear in the output: ~1; quadratic: ~%.0f)\n",
          route, median, mean, cpu, bytes, median / bytes, cpu / bytes, bytes);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::cerr << "usage: failover_bench latency|cpu|routes --daemon PATH [--key value ...]\n";
    return 2;
  }
  std::string mode = argv[1];
  auto args = parseArgs(argc, argv, 2);
  if (!args.count("daemon")) die("--daemon PATH is required");
  if (mode == "latency") return latency(args);
  if (mode == "cpu") return cpu(args);
  if (mode == "routes") return routes(args);
  die("unknown mode " + mode);
}
