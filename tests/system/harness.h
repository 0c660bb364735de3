// System-test harness: temp dirs, child processes (by PID only), polling with deadlines, DNS
// messages built and parsed with ldns, dig/kdig runners, and runners for understudy and knotd.
// Nothing here sleeps for a fixed time: every wait polls a condition until a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::systest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// Files, commands, processes

// A fresh directory under $TMPDIR (or /tmp); removed on destruction unless the running test has
// failed (so its logs can be read) or UNDERSTUDY_KEEP_TEMP is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `content` to path()/name and returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
void writeFile(const std::string& path, std::string_view content);

// Polls `cond` every `step` until it holds or `timeout` passes; returns the last result.
bool pollUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = 10ms);

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

// The first sanitizer report (ASan, LSan, UBSan) in a child's output, with the lines after it,
// or "" when there is none. Under tests/sanitize.sh every child is sanitized, and GCC's UBSan
// (linked with ASan) writes its reports to stderr only, never to the log_path files that script
// collects: so the harness looks at every child's output itself.
std::string sanitizerReport(std::string_view output);

// Runs argv[0] (PATH lookup) with stdin from /dev/null, capturing stdout and stderr. Kills the
// child (by its PID) when `timeout` passes. A sanitizer report in its output fails the test.
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = 10s);

// A child process with stdout+stderr appended to a log file. The child gets SIGKILL if the test
// process dies first (PR_SET_PDEATHSIG), so a crashed test leaves nothing running. It inherits no
// other descriptor: a backend socket the test closes is closed, not kept alive in the child.
// A sanitizer report in the log fails the test (checked when the Process is destroyed).
class Process {
 public:
  Process(const std::vector<std::string>& argv, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& logPath() const { return log_path_; }
  std::string log() const { return readFile(log_path_); }

  // True while the child has not exited (reaps it when it has).
  bool running();
  // Exit status once exited: exit code, or 128 + signal.
  std::optional<int> exitStatus() const { return status_; }
  // Waits up to `timeout` for the child to exit on its own.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status. Idempotent.
  int stop(std::chrono::milliseconds grace = 5s);
  // Sends a signal to this child only.
  void signal(int sig) const;

  // Polls the log until a line contains `needle`; returns that line. Gives up at the deadline or
  // when the process exits.
  std::optional<std::string> waitForLogLine(std::string_view needle,
                                            std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

// ---------------------------------------------------------------------------------------------
// DNS messages (ldns)

struct QuerySpec {
  std::string name;  // presentation format, case kept as given
  uint16_t type = 1;
  uint16_t qclass = 1;
  uint16_t id = 0x1234;
  uint8_t opcode = 0;
  bool rd = true;
  bool cd = false;
  std::optional<uint16_t> edns_udp;  // OPT record present when set
  uint8_t edns_version = 0;
  bool edns_do = false;
};

// Wire-format query built with ldns (ldns_pkt_query_new + ldns_pkt2wire).
Bytes buildQuery(const QuerySpec& spec);

struct Rr {
  std::string owner;  // as received (use lowerOwner() for comparisons)
  uint32_t ttl = 0;
  std::string rclass;  // "IN"
  std::string type;    // "A"
  std::string rdata;   // presentation format

  std::string str() const;  // "www.example.test. 300 IN A 192.0.2.1"
  friend bool operator==(const Rr&, const Rr&) = default;
  friend auto operator<=>(const Rr&, const Rr&) = default;
};

struct Message {
  uint16_t id = 0;
  std::string opcode;                 // "QUERY"
  std::string rcode;                  // "NOERROR", "BADVERS", ...
  std::set<std::string> flags;        // lowercase: "qr", "aa", "tc", "rd", "ra", "ad", "cd"
  std::vector<std::string> question;  // "WwW.example.test. IN A", case as received
  std::vector<Rr> answer;
  std::vector<Rr> authority;
  std::vector<Rr> additional;  // without the OPT pseudo-record
  bool has_edns = false;
  int edns_version = -1;
  int edns_udp = -1;
  bool edns_do = false;
  std::optional<std::string> nsid;  // the NSID option's text, as dig/kdig show it (RFC 5001)
  std::string protocol;             // "UDP" or "TCP" (dig/kdig); empty for raw wire
  size_t size = 0;                  // message size in bytes

  bool hasFlag(const std::string& f) const { return flags.count(f) != 0; }
  std::string str() const;  // multi-line, dig-like
};

// Parses a wire-format message with ldns_wire2pkt. Returns nullopt (and a reason) on failure.
// With `fold_names`, owner names and domain names inside RDATA are lowercased: their case in a
// response depends on how the server laid out compression pointers (RFC 4343 §4.1), which
// differs between correct servers. The question keeps its case either way.
std::optional<Message> parseWire(const Bytes& wire, std::string* error = nullptr,
                                 bool fold_names = false);

std::string lower(std::string_view s);
std::string rcodeName(int rcode);

// ---------------------------------------------------------------------------------------------
// Sockets

// Sends one datagram and waits for one reply (any size up to 65535).
std::optional<Bytes> udpExchange(const std::string& addr, uint16_t port, const Bytes& query,
                                 std::chrono::milliseconds timeout = 2s);
// One query over a fresh TCP connection (2-byte length framing).
std::optional<Bytes> tcpExchange(const std::string& addr, uint16_t port, const Bytes& query,
                                 std::chrono::milliseconds timeout = 2s);

// Prepends the RFC 1035 §4.2.2 two-byte length.
Bytes frame(const Bytes& msg);

class TcpClient {
 public:
  TcpClient(const std::string& addr, uint16_t port, std::chrono::milliseconds timeout = 2s);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Writes all bytes in a single write() call where the kernel allows it.
  bool send(const Bytes& bytes);
  // Reads one length-prefixed message.
  std::optional<Bytes> readMessage(std::chrono::milliseconds timeout = 2s);
  // True when the peer closes the connection (EOF or reset) within `timeout`; data received
  // meanwhile is discarded.
  bool waitClosed(std::chrono::milliseconds timeout);
  void close();

 private:
  bool readExact(uint8_t* buf, size_t n, Clock::time_point deadline);
  int fd_ = -1;
};

// A port free on 127.0.0.1 for both UDP and TCP, below the ephemeral range and claimed for the
// life of the calling test process (harness.cc says why).
uint16_t pickFreePort();

// ---------------------------------------------------------------------------------------------
// dig / kdig

struct DigResult {
  bool ok = false;    // a response was received and parsed
  std::string error;  // why not
  Message msg;
  std::string output;  // raw stdout+stderr, for failure messages
};

// `dig @server -p port +yaml +tries=1 +time=2 ARGS...`, parsed with yaml-cpp.
DigResult dig(const std::string& server, uint16_t port, const std::vector<std::string>& args);
// `kdig @server -p port +retry=0 +time=2 ARGS...`, parsed from kdig's text output.
DigResult kdig(const std::string& server, uint16_t port, const std::vector<std::string>& args);

// ---------------------------------------------------------------------------------------------
// Servers under test

struct Listener {
  std::string proto;    // "udp" / "tcp"
  std::string address;  // "127.0.0.1", "::1"
  uint16_t port = 0;
};

// The real daemon started from a config text written into `dir`. Throws std::runtime_error (with
// the daemon's log) when it does not become ready.
class Understudy {
 public:
  Understudy(const TempDir& dir, std::string_view config_yaml, std::string_view name = "understudy",
             std::chrono::milliseconds ready_timeout = 10s);

  Process& process() { return *process_; }
  const std::vector<Listener>& listeners() const { return listeners_; }
  // Port of the first listener of `proto` whose address has the family of `address_like`.
  uint16_t port(std::string_view proto = "udp", std::string_view address = "127.0.0.1") const;
  const std::string& configPath() const { return config_path_; }
  std::string readyLine() const { return ready_line_; }

 private:
  std::string config_path_;
  std::unique_ptr<Process> process_;
  std::vector<Listener> listeners_;
  std::string ready_line_;
};

// knotd serving zone files from `dir` on 127.0.0.1 on a free port; ready once every zone answers
// its SOA with AA. Retries with another port if the first choice was taken meanwhile.
class Knot {
 public:
  struct Zone {
    std::string domain;  // "diff.test"
    std::string file;    // zone file to copy into the temp dir
  };
  Knot(const TempDir& dir, const std::vector<Zone>& zones, uint16_t udp_max_payload = 1232);

  uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  bool tryStart(const TempDir& dir, const std::vector<Zone>& zones, uint16_t payload, int attempt);
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// Path of a file under tests/data/system.
std::string systemDataPath(std::string_view name);
// Path of the daemon binary under test.
std::string understudyBinary();

}  // namespace understudy::systest
