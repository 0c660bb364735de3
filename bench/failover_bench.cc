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
// Self-contained on purpose (Boost.Asio and POSIX only): it talks to the daemon as an operator
// would, through a config file, its log and DNS.
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

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::cerr << "usage: failover_bench latency|cpu --daemon PATH [--key value ...]\n";
    return 2;
  }
  std::string mode = argv[1];
  auto args = parseArgs(argc, argv, 2);
  if (!args.count("daemon")) die("--daemon PATH is required");
  if (mode == "latency") return latency(args);
  if (mode == "cpu") return cpu(args);
  die("unknown mode " + mode);
}
