// System tests of the control endpoint (issue 5): the real daemon with `control:` on a loopback
// port chosen by the OS, real HTTP backends that the tests stop and start, DNS answers checked
// with dig, /metrics checked with promtool (Prometheus' own parser), and `understudy ctl` run as
// an operator would. Every wait polls with a deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>

#include "backend.h"
#include "harness.h"

namespace understudy::systest {
namespace {

namespace http = boost::beast::http;
using Json = nlohmann::json;

constexpr char kPrimaryProbe[] = "127.0.0.11";
constexpr char kSecondaryProbe[] = "127.0.0.12";
constexpr char kToken[] = "test-token-0123456789abcdef";

const std::string kPrimaryAnswer = "192.0.2.10/300";
const std::string kFailedOverAnswer = "192.0.2.20/20";

// ---------------------------------------------------------------------------------------------
// A plain HTTP/1.1 client (Beast, synchronous, with a deadline)

struct HttpReply {
  int status = 0;                              // 0: no answer (see `error`)
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
  std::string error;

  Json json() const { return Json::parse(body, nullptr, false); }
};

struct RequestOptions {
  std::optional<std::string> authorization = std::nullopt;
  std::optional<std::string> host = "127.0.0.1";  // nullopt: no Host header
  std::string source = "";                        // the client's address; "" = the kernel's choice
  unsigned version = 11;
};

HttpReply httpExchange(uint16_t port, http::verb method, const std::string& target,
                       const RequestOptions& o) {
  HttpReply reply;
  try {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(5s);
    if (!o.source.empty()) {
      stream.socket().open(boost::asio::ip::tcp::v4());
      stream.socket().bind(
          boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(o.source), 0));
    }
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{method, target, o.version};
    if (o.host) req.set(http::field::host, *o.host);
    if (o.authorization) req.set(http::field::authorization, *o.authorization);
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    http::read(stream, buffer, parser);
    const auto& res = parser.get();
    reply.status = res.result_int();
    for (const auto& field : res) {
      reply.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    }
    reply.body = res.body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

HttpReply httpRequest(uint16_t port, http::verb method, const std::string& target,
                      const std::optional<std::string>& authorization = std::nullopt) {
  return httpExchange(port, method, target, {.authorization = authorization});
}

// Sends `text` as it is (for requests a client library would not write) and reads one response.
HttpReply rawExchange(uint16_t port, const std::string& text) {
  HttpReply reply;
  try {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(5s);
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    boost::asio::write(stream, boost::asio::buffer(text));
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    reply.status = res.result_int();
    reply.body = res.body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

// The first IPv4 address of this host that is not loopback, or "" (a container may have none).
std::string nonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) {
      continue;
    }
    char text[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) found = text;
  }
  freeifaddrs(list);
  return found;
}

// A connection that is opened and then says nothing, as a client hoarding connections does.
class SilentConnection {
 public:
  SilentConnection(const std::string& source, uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SilentConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentConnection(const SilentConnection&) = delete;
  SilentConnection& operator=(const SilentConnection&) = delete;
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A child process running as `nobody` that holds `count` connections to 127.0.0.1:port and says
// nothing on them, until this object goes: another local user hoarding the endpoint.
class OtherUserConnections {
 public:
  OtherUserConnections(uint16_t port, int count) {
    int ready[2], done[2];
    if (pipe(ready) != 0 || pipe(done) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // Only system calls from here: the parent has threads.
      ::close(ready[0]);
      ::close(done[1]);
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(1);
      for (int i = 0; i < count; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) _exit(2);
      }
      char c = 1;
      if (write(ready[1], &c, 1) != 1) _exit(3);
      (void)!read(done[0], &c, 1);  // until the parent closes its end (or dies)
      _exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_ = done[1];
    char c = 0;
    ok_ = pid_ > 0 && read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~OtherUserConnections() {
    if (done_ >= 0) ::close(done_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  OtherUserConnections(const OtherUserConnections&) = delete;
  OtherUserConnections& operator=(const OtherUserConnections&) = delete;
  bool ok() const { return ok_; }

 private:
  pid_t pid_ = -1;
  int done_ = -1;
  bool ok_ = false;
};

std::string bearer(const std::string& token) {
  return "Bearer " + token;
}

// ---------------------------------------------------------------------------------------------
// Prometheus text: the value of one series, by its exact name and labels as written

std::optional<double> metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Fixture: two HTTP backends (primary 192.0.2.10 probed at 127.0.0.11, secondary 192.0.2.20 at
// 127.0.0.12) and a priority pool answering app.f.test A.

struct Options {
  bool token = true;
  std::string token_file = "";  // default: the fixture's control.token
  std::string control_listen = "127.0.0.1:0";
  std::string log_format = "text";
  std::string control_extra = "";  // more keys of `control:`, e.g. ", hostnames: [a.example]"
  bool primary_endpoint = true;    // false: pool app without 192.0.2.10
};

class Control : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = httpBackendsOnOnePort({kPrimaryProbe, kSecondaryProbe});
    primary_ = std::move(b[0]);
    secondary_ = std::move(b[1]);
    token_path_ = writeToken("control.token", std::string(kToken) + "\n");
  }

  // Token files are refused when others may read them: written 0640, as docs/control.md says.
  std::string writeToken(const std::string& name, const std::string& content, mode_t mode = 0640) {
    std::string path = dir_.write(name, content);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string config(const Options& s) const {
    std::string control =
        "control: { listen: \"" + s.control_listen + "\"" +
        (s.token ? ", token_file: " + (s.token_file.empty() ? token_path_ : s.token_file)
                 : std::string()) +
        s.control_extra + " }\n";
    return "# generated by tests/system/control_test.cc\n"
           "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n"
           "log: { level: info, format: " +
           s.log_format + " }\n" + control +
           "checks:\n"
           "  web: { type: http, port: " +
           std::to_string(primary_->port()) +
           ", path: /health, interval: 200ms, timeout: 150ms, rise: 2, fall: 2, expect_body: OK }\n"
           "pools:\n"
           "  app:\n"
           "    policy: priority\n"
           "    check: web\n"
           "    endpoints:\n" +
           std::string(
               s.primary_endpoint
                   ? "      - { address: 192.0.2.10, probe_address: 127.0.0.11, priority: 1 }\n"
                   : "") +
           "      - { address: 192.0.2.20, probe_address: 127.0.0.12, priority: 2 }\n"
           "zones:\n"
           "  - name: f.test\n"
           "    soa: { serial: 1, minimum: 60 }\n"
           "    records:\n"
           "      - { name: \"@\", type: NS, value: ns1 }\n"
           "      - { name: ns1, type: A, value: 192.0.2.53 }\n"
           "      - { name: www, type: A, ttl: 300, value: 192.0.2.1 }\n"
           "      - { name: app, type: A, pool: app, ttl: 300, failover_ttl: 20 }\n";
  }

  void start(const Options& s = {}) {
    dns_ = std::make_unique<Understudy>(dir_, config(s));
    static const std::regex re(R"(control listening on (?:127\.0\.0\.1|\[::1\]):(\d+))");
    std::smatch m;
    std::string log = dns_->process().log();
    ASSERT_TRUE(std::regex_search(log, m, re)) << log;
    port_ = static_cast<uint16_t>(std::stoul(m[1]));
  }

  HttpReply get(const std::string& target) { return httpRequest(port_, http::verb::get, target); }
  HttpReply post(const std::string& target, const std::optional<std::string>& auth = std::nullopt) {
    return httpRequest(port_, http::verb::post, target, auth);
  }
  HttpReply postWithToken(const std::string& target) { return post(target, bearer(kToken)); }

  // app.f.test A through dig: "192.0.2.10/300", or what went wrong.
  std::string digApp() {
    DigResult r = dig("127.0.0.1", dns_->port("udp"), {"app.f.test", "A"});
    if (!r.ok) return "dig failed: " + r.error;
    if (r.msg.rcode != "NOERROR") return r.msg.rcode;
    std::string out;
    for (const auto& rr : r.msg.answer) {
      out += (out.empty() ? "" : " ") + rr.rdata + "/" + std::to_string(rr.ttl);
    }
    return out.empty() ? "nodata" : out;
  }

  std::string awaitDig(const std::string& expected, std::chrono::milliseconds timeout = 5s) {
    std::string last;
    pollUntil(
        [&] {
          last = digApp();
          return last == expected;
        },
        timeout, 20ms);
    return last;
  }

  // The /status entry of an endpoint of pool app.
  Json endpointStatus(const std::string& address) {
    Json status = get("/status").json();
    if (!status.is_object()) return nullptr;
    for (const auto& pool : status["pools"]) {
      if (pool["name"] != "app") continue;
      for (const auto& e : pool["endpoints"]) {
        if (e["address"] == address) return e;
      }
    }
    return nullptr;
  }

  std::string log() { return dns_->process().log(); }

  CommandResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {understudyBinary(), "ctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, 10s);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  TempDir dir_;
  std::unique_ptr<HttpBackend> primary_;
  std::unique_ptr<HttpBackend> secondary_;
  std::unique_ptr<Understudy> dns_;
  std::string token_path_;
  uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// /metrics

TEST_F(Control, MetricsPassPromtoolAndCountersMoveWithQueriesAndProbes) {
  start();
  CommandResult which = runCommand({"sh", "-c", "command -v promtool"});
  ASSERT_EQ(which.exit_code, 0) << "promtool is missing: install Debian's `prometheus` package "
                                   "(tests/deps.sh does)";

  HttpReply first = get("/metrics");
  ASSERT_EQ(first.status, 200) << first.error << first.body;
  EXPECT_EQ(first.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u)
      << first.headers["content-type"];
  std::string file = dir_.write("metrics.txt", first.body);
  CommandResult check = runCommand({"sh", "-c", "promtool check metrics < " + file});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << first.body;

  for (const char* family : {"understudy_build_info",
                             "understudy_queries_total",
                             "understudy_responses_truncated_total",
                             "understudy_queries_dropped_total",
                             "understudy_tcp_connections",
                             "understudy_tcp_connections_accepted_total",
                             "understudy_tcp_connections_refused_total",
                             "understudy_udp_receive_buffer_bytes",
                             "understudy_tcp_accept_errors_total",
                             "understudy_endpoint_up",
                             "understudy_endpoint_serving",
                             "understudy_endpoint_override",
                             "understudy_probe_results_total",
                             "understudy_probe_duration_seconds",
                             "understudy_pool_answer_priority",
                             "understudy_pool_answer_addresses",
                             "understudy_pool_failed_over",
                             "understudy_pool_all_down",
                             "understudy_pool_transitions_total",
                             "understudy_pool_last_transition_timestamp_seconds",
                             "understudy_health_transitions_total",
                             "understudy_reloads_total",
                             "understudy_snapshot_generation",
                             "understudy_webhook_deliveries_total",
                             "understudy_control_connections",
                             "understudy_control_connections_accepted_total",
                             "understudy_control_refused_total"}) {
    EXPECT_NE(first.body.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_EQ(
      metric(first.body, R"(understudy_endpoint_up{pool="app",endpoint="192.0.2.10",check="web"})"),
      1);
  // The daemon reads its UDP receive buffer back (unit-tested in udp_receive_buffer_test.cc).
  const std::string udp_buffer = R"(understudy_udp_receive_buffer_bytes{listen="127.0.0.1:)" +
                                 std::to_string(dns_->port("udp")) + R"("})";
  EXPECT_GT(metric(first.body, udp_buffer).value_or(0), 0) << first.body;
  EXPECT_EQ(metric(first.body, R"(understudy_tcp_accept_errors_total{reason="emfile"})"), 0);
  EXPECT_EQ(metric(first.body, R"(understudy_endpoint_serving{pool="app",endpoint="192.0.2.20"})"),
            1);
  EXPECT_EQ(metric(first.body,
                   R"(understudy_pool_answer_priority{pool="app",record="app.f.test.",type="A"})"),
            1);
  EXPECT_EQ(metric(first.body,
                   R"(understudy_pool_failed_over{pool="app",record="app.f.test.",type="A"})"),
            0);

  const std::string udp_a = R"(understudy_queries_total{protocol="udp",qtype="A",rcode="NOERROR"})";
  const std::string tcp_a = R"(understudy_queries_total{protocol="tcp",qtype="A",rcode="NOERROR"})";
  const std::string nx = R"(understudy_queries_total{protocol="udp",qtype="TXT",rcode="NXDOMAIN"})";
  const std::string primary_ok = R"(understudy_probe_results_total{check="web",target=")" +
                                 primary_->endpoint() + R"(",outcome="ok"})";
  const std::string primary_count =
      R"(understudy_probe_duration_seconds_count{check="web",target=")" + primary_->endpoint() +
      R"("})";
  double udp_before = metric(first.body, udp_a).value_or(0);
  double tcp_before = metric(first.body, tcp_a).value_or(0);
  double ok_before = metric(first.body, primary_ok).value_or(-1);
  ASSERT_GE(ok_before, 1) << first.body;

  for (int i = 0; i < 3; ++i) ASSERT_EQ(digApp(), kPrimaryAnswer);
  DigResult tcp = dig("127.0.0.1", dns_->port("udp"), {"+tcp", "www.f.test", "A"});
  ASSERT_TRUE(tcp.ok) << tcp.output;
  DigResult nxdomain = dig("127.0.0.1", dns_->port("udp"), {"nope.f.test", "TXT"});
  ASSERT_TRUE(nxdomain.ok) << nxdomain.output;

  std::string later;
  // Probes run every 200 ms: within a few seconds the ok counter has moved too.
  ASSERT_TRUE(pollUntil(
      [&] {
        later = get("/metrics").body;
        return metric(later, primary_ok).value_or(0) > ok_before;
      },
      5s, 50ms))
      << later;
  EXPECT_EQ(metric(later, udp_a).value_or(0), udp_before + 3) << later;
  EXPECT_EQ(metric(later, tcp_a).value_or(0), tcp_before + 1) << later;
  EXPECT_EQ(metric(later, nx).value_or(0), 1) << later;
  EXPECT_GE(metric(later, "understudy_tcp_connections_accepted_total").value_or(0), 1) << later;
  // The histogram counts every probe, whatever its outcome.
  EXPECT_GE(metric(later, primary_count).value_or(0), metric(later, primary_ok).value_or(0));
  EXPECT_EQ(metric(later, R"(understudy_probe_duration_seconds_bucket{check="web",target=")" +
                              primary_->endpoint() + R"(",le="+Inf"})"),
            metric(later, primary_count));
  check = runCommand({"sh", "-c", "promtool check metrics < " + dir_.write("later.txt", later)});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// ---------------------------------------------------------------------------------------------
// /status and /explain through a real failover

TEST_F(Control, StatusAndExplainReflectARealFailover) {
  start();
  Json e = endpointStatus("192.0.2.10");
  ASSERT_TRUE(e.is_object()) << get("/status").body;
  EXPECT_EQ(e["state"], "up");
  EXPECT_EQ(e["serving"], true);
  EXPECT_EQ(e["priority"], 1);
  EXPECT_EQ(e["check"], "web");
  EXPECT_EQ(e["probe_address"], "127.0.0.11");
  EXPECT_TRUE(e["override"].is_null());
  EXPECT_EQ(e["last_probe"]["outcome"], "ok");
  EXPECT_TRUE(e["since"].is_string());
  EXPECT_TRUE(std::regex_match(e["since"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << e["since"];

  HttpReply explain = get("/explain?name=app.f.test&type=A");
  ASSERT_EQ(explain.status, 200) << explain.body;
  Json x = explain.json();
  EXPECT_EQ(x["name"], "app.f.test.");
  EXPECT_EQ(x["type"], "A");
  EXPECT_EQ(x["rcode"], "NOERROR");
  EXPECT_EQ(x["answer"], Json::array({"app.f.test. 300 IN A 192.0.2.10"}));
  EXPECT_EQ(x["ttl"], 300);
  EXPECT_EQ(x["pooled"], true);
  EXPECT_EQ(x["pool"], "app");
  EXPECT_NE(x["why"].get<std::string>().find("primary tier healthy"), std::string::npos) << x;

  primary_->stop();
  ASSERT_EQ(awaitDig(kFailedOverAnswer), kFailedOverAnswer) << log();

  ASSERT_TRUE(pollUntil([&] { return endpointStatus("192.0.2.10")["state"] == "down"; }, 5s, 20ms));
  e = endpointStatus("192.0.2.10");
  EXPECT_EQ(e["serving"], false);
  EXPECT_EQ(e["last_probe"]["outcome"], "connect_failed") << e;
  EXPECT_NE(e["reason"].get<std::string>().find("connect refused"), std::string::npos) << e;

  Json status = get("/status").json();
  ASSERT_EQ(status["pools"].size(), 1u);
  const Json& record = status["pools"][0]["records"][0];
  EXPECT_EQ(record["name"], "app.f.test.");
  EXPECT_EQ(record["answer"], "192.0.2.20 (failed over to priority 2, ttl 20)");
  EXPECT_GE(record["changes"].get<int>(), 1);
  EXPECT_TRUE(record["last_change"].is_string());

  // Exactly what a client gets: the owner keeps the case of the question (compression).
  x = get("/explain?name=APP.f.test.&type=a").json();
  EXPECT_EQ(x["answer"], Json::array({"APP.f.test. 20 IN A 192.0.2.20"})) << x;
  EXPECT_EQ(x["ttl"], 20);
  std::string why = x["why"];
  EXPECT_TRUE(std::regex_search(
      why,
      std::regex(R"(^primary tier \(priority 1\) down since \d\d:\d\d:\d\d UTC: 192\.0\.2\.10 )"
                 R"(connect refused x\d+; serving priority 2 with failover_ttl 20$)")))
      << why;

  std::string metrics = get("/metrics").body;
  EXPECT_EQ(
      metric(metrics, R"(understudy_pool_failed_over{pool="app",record="app.f.test.",type="A"})"),
      1);
  EXPECT_EQ(metric(metrics,
                   R"(understudy_pool_answer_priority{pool="app",record="app.f.test.",type="A"})"),
            2);
  EXPECT_EQ(
      metric(metrics, R"(understudy_endpoint_up{pool="app",endpoint="192.0.2.10",check="web"})"),
      0);
  EXPECT_GE(metric(metrics, R"(understudy_pool_transitions_total{pool="app"})").value_or(0), 1);
  EXPECT_TRUE(metric(metrics, R"(understudy_pool_last_transition_timestamp_seconds{pool="app"})"));
  EXPECT_GE(metric(metrics, "understudy_health_transitions_total").value_or(0), 1);

  // Static records and names that do not exist are explained too.
  x = get("/explain?name=www.f.test&type=A").json();
  EXPECT_EQ(x["pooled"], false);
  EXPECT_EQ(x["answer"], Json::array({"www.f.test. 300 IN A 192.0.2.1"}));
  x = get("/explain?name=missing.f.test&type=A").json();
  EXPECT_EQ(x["rcode"], "NXDOMAIN");
  EXPECT_TRUE(x["ttl"].is_null());
  EXPECT_EQ(get("/explain?name=a..b&type=A").status, 400);
  EXPECT_EQ(get("/explain?name=app.f.test&type=NOTATYPE").status, 400);
  EXPECT_EQ(get("/explain?type=A").status, 400);

  primary_->start();
  EXPECT_EQ(awaitDig(kPrimaryAnswer), kPrimaryAnswer) << log();
}

// ---------------------------------------------------------------------------------------------
// Overrides

TEST_F(Control, DrainAndForceDownFailOverAndClearRestores) {
  start();
  ASSERT_EQ(digApp(), kPrimaryAnswer);

  HttpReply drain = postWithToken("/pools/app/endpoints/192.0.2.10/drain");
  ASSERT_EQ(drain.status, 200) << drain.body;
  EXPECT_EQ(drain.json()["message"], "drain on app/192.0.2.10 until cleared");
  EXPECT_EQ(digApp(), kFailedOverAnswer);  // published before the response went out
  Json e = endpointStatus("192.0.2.10");
  EXPECT_EQ(e["state"], "up");  // still probed, still measured healthy
  EXPECT_EQ(e["serving"], false);
  EXPECT_EQ(e["override"]["kind"], "drain");
  EXPECT_TRUE(e["override"]["expires"].is_null());
  EXPECT_EQ(
      metric(get("/metrics").body,
             R"(understudy_endpoint_override{pool="app",endpoint="192.0.2.10",kind="drain"})"),
      1);
  EXPECT_NE(log().find("override drain on app/192.0.2.10 until cleared"), std::string::npos);

  HttpReply clear = postWithToken("/pools/app/endpoints/192.0.2.10/clear");
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  EXPECT_TRUE(endpointStatus("192.0.2.10")["override"].is_null());

  // A failover drill: exactly what a real failure does to the answer.
  HttpReply down = postWithToken("/pools/app/endpoints/192.0.2.10/force-down?for=10m");
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(down.json()["message"], "force-down on app/192.0.2.10 for 10m");
  EXPECT_EQ(digApp(), kFailedOverAnswer);
  e = endpointStatus("192.0.2.10");
  EXPECT_EQ(e["override"]["kind"], "force-down");
  EXPECT_TRUE(e["override"]["expires"].is_string()) << e;
  std::string why = get("/explain?name=app.f.test&type=A").json()["why"];
  EXPECT_NE(why.find("192.0.2.10 force-down override"), std::string::npos) << why;

  ASSERT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/clear").status, 200);
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  // Clearing twice is fine: the endpoint is already in the state asked for.
  EXPECT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/clear").status, 200);

  // force-up keeps a dead primary in the answer.
  primary_->stop();
  ASSERT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/force-up").status, 200);
  ASSERT_TRUE(pollUntil([&] { return endpointStatus("192.0.2.10")["state"] == "down"; }, 5s, 20ms));
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  ASSERT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/clear").status, 200);
  EXPECT_EQ(digApp(), kFailedOverAnswer);
}

TEST_F(Control, WritesNeedTheBearerTokenAndBadRequestsSayWhy) {
  start();
  HttpReply none = post("/pools/app/endpoints/192.0.2.10/drain");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(none.headers["www-authenticate"].rfind("Bearer", 0), 0u);
  HttpReply wrong = post("/pools/app/endpoints/192.0.2.10/drain", bearer("not-the-token-at-all"));
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(post("/pools/app/endpoints/192.0.2.10/drain", "Basic dXNlcjpwYXNz").status, 401);
  EXPECT_EQ(post("/pools/app/endpoints/192.0.2.10/drain", bearer(std::string(kToken) + "x")).status,
            401);
  EXPECT_EQ(post("/reload").status, 401);
  EXPECT_EQ(digApp(), kPrimaryAnswer);  // nothing changed
  EXPECT_TRUE(endpointStatus("192.0.2.10")["override"].is_null());
  // The first 401 from an address is logged at once; the next ones are counted and reported
  // once per interval (Control.ManyBadRequestsAreABoundedNumberOfLogLinesWithTheCount).
  auto line = dns_->process().waitForLogLine("missing bearer token", 2s);
  ASSERT_TRUE(line) << log();
  EXPECT_NE(line->find("warning"), std::string::npos) << *line;
  EXPECT_NE(line->find("control: 401 for POST /pools/app/endpoints/192.0.2.10/drain from "
                       "127.0.0.1:"),
            std::string::npos)
      << *line;
  EXPECT_EQ(
      metric(get("/metrics").body, R"(understudy_control_refused_total{reason="unauthorized"})"),
      5);

  HttpReply pool = postWithToken("/pools/nope/endpoints/192.0.2.10/drain");
  EXPECT_EQ(pool.status, 404);
  EXPECT_EQ(pool.json()["error"], "no pool 'nope'");
  HttpReply endpoint = postWithToken("/pools/app/endpoints/192.0.2.99/drain");
  EXPECT_EQ(endpoint.status, 404);
  EXPECT_EQ(endpoint.json()["error"], "pool 'app' has no endpoint 192.0.2.99");
  HttpReply duration = postWithToken("/pools/app/endpoints/192.0.2.10/drain?for=10x");
  EXPECT_EQ(duration.status, 400);
  EXPECT_NE(duration.json()["error"].get<std::string>().find("invalid duration '10x'"),
            std::string::npos);
  EXPECT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/explode").status, 404);
  EXPECT_EQ(get("/pools/app/endpoints/192.0.2.10/drain").status, 405);
  HttpReply method = post("/metrics");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.headers["allow"], "GET");
  EXPECT_EQ(get("/nothing-here").status, 404);
  EXPECT_EQ(digApp(), kPrimaryAnswer);
}

// `understudy check` and the daemon apply one rule to the token file (issue 12: a 16-space token
// passed check and failed the daemon; "a" and 15 spaces passed both and "Bearer a" was accepted).
TEST_F(Control, CheckAndTheDaemonAgreeOnTheTokenFile) {
  struct Case {
    std::string content;
    mode_t mode;
    std::string error;
  };
  const Case kCases[] = {
      {std::string(16, ' ') + "\n", 0640,
       "must hold a token of at least 16 characters on its first line (it has 0 after"},
      {"a" + std::string(15, ' ') + "\n", 0640,
       "must hold a token of at least 16 characters on its first line (it has 1 after"},
      {"not the token at all\n", 0640, "the token must be one word"},
      {std::string(kToken) + "\n", 0644, "is readable by other users (mode 0644); run: chmod 0640"},
  };
  int n = 0;
  for (const Case& c : kCases) {
    const std::string name = "case" + std::to_string(++n);
    std::string token = writeToken(name + ".token", c.content, c.mode);
    std::string path = dir_.write(name + ".yaml", config({.token_file = token}));
    CommandResult check = runCommand({understudyBinary(), "check", "-c", path});
    EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
    EXPECT_NE(check.err.find("control.token_file: token file '" + token), std::string::npos)
        << check.err;
    EXPECT_NE(check.err.find(c.error), std::string::npos) << check.err;
    Process daemon({understudyBinary(), "-c", path}, dir_.file(name + ".log"));
    auto status = daemon.waitExit(10s);
    ASSERT_TRUE(status) << daemon.log();
    EXPECT_EQ(*status, 1) << daemon.log();
    EXPECT_NE(daemon.log().find(c.error), std::string::npos) << daemon.log();
  }

  // Blanks around the token are stripped once; the header must then be exactly "Bearer TOKEN".
  std::string padded = writeToken("padded.token", "  " + std::string(kToken) + " \t\r\n");
  std::string path = dir_.write("padded.yaml", config({.token_file = padded}));
  CommandResult check = runCommand({understudyBinary(), "check", "-c", path});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  start({.token_file = padded});
  const std::string drain = "/pools/app/endpoints/192.0.2.10/drain";
  EXPECT_EQ(post(drain, "Bearer  " + std::string(kToken)).status, 401);
  EXPECT_EQ(post(drain, "Bearer " + std::string(kToken) + " x").status, 401);
  EXPECT_EQ(post(drain, "Bearer a").status, 401);
  EXPECT_EQ(post(drain, "Bearer").status, 401);
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  EXPECT_EQ(post(drain, "bEARER " + std::string(kToken)).status, 200);
  EXPECT_EQ(digApp(), kFailedOverAnswer);
}

// Issue 12: 1,000 bad requests wrote 7.1 MB of log in 0.15 s, one WARN line each.
TEST_F(Control, ManyBadRequestsAreABoundedNumberOfLogLinesWithTheCount) {
  start();
  auto lines = [&] {
    std::string text = log();
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  const size_t before = lines();
  constexpr int kBad = 300;
  for (int i = 0; i < kBad; ++i) {
    HttpReply r =
        post("/pools/app/endpoints/192.0.2.10/drain", bearer("wrong-token-" + std::to_string(i)));
    ASSERT_EQ(r.status, 401) << r.error << r.body;
  }
  EXPECT_EQ(
      metric(get("/metrics").body, R"(understudy_control_refused_total{reason="unauthorized"})"),
      kBad);
  // One line for the first; probe results and the like may add a few, never one per request.
  EXPECT_LE(lines() - before, 5u) << log();
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  // The rest are reported with their count and the address: at the end of the interval, or at
  // the latest when the endpoint stops.
  dns_->process().stop();
  std::string text = log();
  // Local clients are named by address and user (uid) when the kernel says.
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(warning control: (127\.0\.0\.1|local uid \d+): )" +
                       std::to_string(kBad - 1) + " more 401 responses in the last ")))
      << text;
  EXPECT_NE(text.find("; the latest: 401 for POST /pools/app/endpoints/192.0.2.10/drain from "
                      "127.0.0.1:"),
            std::string::npos)
      << text;
  EXPECT_LE(lines() - before, 12u) << text;
}

// Issue 12: one client holding the endpoint's 64 connections locked out Prometheus and `ctl`
// (10 of 12 scrapes failed). Now one client address holds at most
// control.max_connections_per_client (8) of them.
TEST_F(Control, OneClientHoldingManyConnectionsDoesNotStopAnotherClientsScrape) {
  // Another client: this host's own non-loopback address (a local user is one client whatever
  // loopback address it uses, see ALocalUserHoardingConnectionsDoesNotLockOutPrometheusOrCtl).
  const std::string other_address = nonLoopbackAddress();
  if (other_address.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
  start();
  std::vector<std::unique_ptr<SilentConnection>> hoard;
  for (int i = 0; i < 64; ++i) {
    hoard.push_back(std::make_unique<SilentConnection>("127.0.0.3", port_));
    ASSERT_TRUE(hoard.back()->connected());
  }
  const RequestOptions other{.source = other_address};
  const std::string per_client = R"(understudy_control_refused_total{reason="per_client"})";
  std::string metrics;
  ASSERT_TRUE(pollUntil(
      [&] {
        metrics = httpExchange(port_, http::verb::get, "/metrics", other).body;
        return metric(metrics, per_client).value_or(0) == 56;
      },
      5s, 20ms))
      << metrics;
  // Every scrape of another client succeeds while the hoard is held (its connections are cut
  // when their 5 s header deadline passes, which this test does not wait for).
  for (int i = 0; i < 12; ++i) {
    HttpReply r = httpExchange(port_, http::verb::get, "/metrics", other);
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    EXPECT_EQ(metric(r.body, "understudy_control_connections").value_or(0), 9) << r.body;
  }
  EXPECT_EQ(metric(metrics, R"(understudy_control_refused_total{reason="global"})"), 0);
  // The hoarding client's 57th connection got a reason, and the log says who, once.
  HttpReply refused = httpExchange(port_, http::verb::get, "/metrics", {.source = "127.0.0.3"});
  EXPECT_EQ(refused.status, 429) << refused.error;
  EXPECT_TRUE(std::regex_search(refused.body,
                                std::regex("8 connections from (127\\.0\\.0\\.3|local uid \\d+)")))
      << refused.body;
  EXPECT_NE(refused.body.find(" are open (control.max_connections_per_client)"), std::string::npos)
      << refused.body;
  auto line = dns_->process().waitForLogLine("refused a connection from 127.0.0.3:", 2s);
  ASSERT_TRUE(line) << log();
  EXPECT_NE(line->find("warning"), std::string::npos);
  std::string text = log();
  size_t logged = 0;
  for (size_t at = text.find("refused a connection"); at != std::string::npos;
       at = text.find("refused a connection", at + 1)) {
    ++logged;
  }
  EXPECT_EQ(logged, 1u) << text;  // 57 refusals, one line until the interval's report
  EXPECT_EQ(digApp(), kPrimaryAnswer);

  // Given back, the connections are usable again by the same client.
  hoard.clear();
  ASSERT_TRUE(pollUntil(
      [&] {
        return httpExchange(port_, http::verb::get, "/status", {.source = "127.0.0.3"}).status ==
               200;
      },
      5s, 20ms));
}

// The issue's own case: on the default loopback listener every local client comes from
// 127.0.0.1, so the address alone cannot tell a hostile local user from Prometheus or `ctl`. The
// kernel's socket diagnostics can: each local user has a cap of its own.
TEST_F(Control, ALocalUserHoardingConnectionsDoesNotLockOutPrometheusOrCtl) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  uint16_t fixed = pickFreePort();
  start({.control_listen = "127.0.0.1:" + std::to_string(fixed)});
  if (log().find("socket diagnostics (AF_NETLINK) unavailable") != std::string::npos) {
    GTEST_SKIP() << "no NETLINK_SOCK_DIAG here: local users are counted by address only";
  }
  OtherUserConnections nobody(port_, 64);
  ASSERT_TRUE(nobody.ok());
  const std::string per_client = R"(understudy_control_refused_total{reason="per_client"})";
  std::string metrics;
  ASSERT_TRUE(pollUntil(
      [&] {
        metrics = get("/metrics").body;
        return metric(metrics, per_client).value_or(0) == 56;
      },
      5s, 20ms))
      << metrics << log();
  // Prometheus (12 scrapes failed 10 times before) and ctl, from 127.0.0.1 as another user.
  for (int i = 0; i < 12; ++i) {
    HttpReply r = httpExchange(port_, http::verb::get, "/metrics",
                               {.host = "127.0.0.1:" + std::to_string(port_)});
    ASSERT_EQ(r.status, 200) << i << ": " << r.error << r.body;
  }
  CommandResult status = ctl({"-c", dns_->configPath(), "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  auto line = dns_->process().waitForLogLine("(uid 65534): 8 connections from local uid 65534", 2s);
  EXPECT_TRUE(line) << log();
}

// DNS rebinding (issue 12): a page on evil.example makes its name resolve to 127.0.0.1 and reads
// the endpoint as its own origin. Its requests carry Host: evil.example and get 421.
TEST_F(Control, OnlyRequestsWhoseHostNamesTheEndpointAreAnswered) {
  start();
  const std::string port = std::to_string(port_);
  auto status = [&](const std::string& host) {
    return httpExchange(port_, http::verb::get, "/status", {.host = host}).status;
  };
  for (const std::string& host : {"127.0.0.1:" + port, std::string("127.0.0.1"),
                                  "localhost:" + port, "LOCALHOST:" + port, "[::1]:" + port}) {
    EXPECT_EQ(status(host), 200) << host;
  }

  HttpReply rebound =
      httpExchange(port_, http::verb::get, "/status", {.host = "evil.example:" + port});
  EXPECT_EQ(rebound.status, 421) << rebound.body;
  EXPECT_EQ(rebound.json()["error"],
            "Host does not name this endpoint ('evil.example:" + port +
                "'): use the endpoint's own address, or add the name to control.hostnames");
  EXPECT_EQ(rebound.body.find("192.0.2.10"), std::string::npos) << rebound.body;
  for (const char* target : {"/metrics", "/explain?name=app.f.test&type=A", "/", "/nothing"}) {
    EXPECT_EQ(httpExchange(port_, http::verb::get, target, {.host = "evil.example:" + port}).status,
              421)
        << target;
  }
  HttpReply post = httpExchange(port_, http::verb::post, "/pools/app/endpoints/192.0.2.10/drain",
                                {.authorization = bearer(kToken), .host = "evil.example:" + port});
  EXPECT_EQ(post.status, 421);
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  EXPECT_EQ(status("127.0.0.1:1"), 421);        // another port
  EXPECT_EQ(status("127.0.0.2:" + port), 421);  // another address

  // As a browser would: the rebound name resolves to 127.0.0.1.
  CommandResult curl = runCommand({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                   "--resolve", "evil.example:" + port + ":127.0.0.1",
                                   "http://evil.example:" + port + "/status"});
  EXPECT_EQ(curl.out, "421") << curl.err;
  // What curl and Prometheus send for http://127.0.0.1:PORT and http://localhost:PORT.
  for (const std::string& url : {url() + "/metrics", "http://localhost:" + port + "/metrics"}) {
    CommandResult ok =
        runCommand({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--ipv4", url});
    EXPECT_EQ(ok.out, "200") << url << ": " << ok.err;
  }

  // RFC 9112 §3.2: HTTP/1.1 needs exactly one Host. HTTP/1.0 needs none, and no browser sends
  // a request without one.
  HttpReply missing = httpExchange(port_, http::verb::get, "/status", {.host = std::nullopt});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.json()["error"], "missing Host header");
  EXPECT_EQ(
      httpExchange(port_, http::verb::get, "/status", {.host = std::nullopt, .version = 10}).status,
      200);
  HttpReply two = rawExchange(port_,
                              "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n"
                              "Connection: close\r\n\r\n");
  EXPECT_EQ(two.status, 400) << two.error;

  std::string metrics = get("/metrics").body;
  EXPECT_EQ(metric(metrics, R"(understudy_control_refused_total{reason="host"})"), 9) << metrics;
  auto line = dns_->process().waitForLogLine("421 for GET /status from 127.0.0.1:", 2s);
  ASSERT_TRUE(line) << log();
  EXPECT_NE(line->find("Host does not name this endpoint ('evil.example:" + port + "')"),
            std::string::npos)
      << *line;
}

TEST_F(Control, ConfiguredHostnamesAreAnsweredAndFollowReloads) {
  start({.control_extra = ", hostnames: [ns1.mgmt.example.net]"});
  const std::string port = std::to_string(port_);
  auto curl = [&](const std::string& name) {
    return runCommand({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--resolve",
                       name + ":" + port + ":127.0.0.1", "http://" + name + ":" + port + "/status"})
        .out;
  };
  EXPECT_EQ(curl("ns1.mgmt.example.net"), "200");
  EXPECT_EQ(curl("ns2.mgmt.example.net"), "421");

  writeFile(dns_->configPath(), config({}));
  dns_->process().signal(SIGHUP);
  ASSERT_TRUE(dns_->process().waitForLogLine("reload done", 10s)) << log();
  EXPECT_EQ(curl("ns1.mgmt.example.net"), "421");
  EXPECT_EQ(curl("127.0.0.1"), "200");
}

// Prometheus' own scrape, by address and by name, passes the Host check.
TEST_F(Control, PrometheusScrapesTheEndpoint) {
  CommandResult which = runCommand({"sh", "-c", "command -v prometheus"});
  if (which.exit_code != 0) GTEST_SKIP() << "prometheus is not installed";
  start();
  const std::string port = std::to_string(port_);
  std::string config_path = dir_.write("prometheus.yml",
                                       "global: { scrape_interval: 1s, scrape_timeout: 1s }\n"
                                       "scrape_configs:\n"
                                       "  - job_name: understudy\n"
                                       "    static_configs:\n"
                                       "      - targets: [\"127.0.0.1:" +
                                           port + "\", \"localhost:" + port + "\"]\n");
  Json targets;
  bool up = false;
  std::string prometheus_log;
  // The port picked may be taken before Prometheus binds it (tests run in parallel): retry.
  for (int attempt = 1; attempt <= 3 && !up; ++attempt) {
    const std::string n = std::to_string(attempt);
    uint16_t web = pickFreePort();
    Process prometheus({"prometheus", "--config.file=" + config_path,
                        "--storage.tsdb.path=" + dir_.file("tsdb" + n),
                        "--web.listen-address=127.0.0.1:" + std::to_string(web)},
                       dir_.file("prometheus" + n + ".log"));
    pollUntil(
        [&] {
          if (!prometheus.running()) return true;
          HttpReply r = httpRequest(web, http::verb::get, "/api/v1/targets");
          targets = r.json();
          if (!targets.is_object() || targets["data"]["activeTargets"].size() != 2) return false;
          for (const auto& t : targets["data"]["activeTargets"]) {
            if (t["health"] != "up") return false;
          }
          up = true;
          return true;
        },
        20s, 100ms);
    prometheus_log = prometheus.log();
    prometheus.stop();
    if (prometheus_log.find("address already in use") == std::string::npos) break;
  }
  EXPECT_TRUE(up) << targets.dump(2) << prometheus_log;
  EXPECT_EQ(metric(get("/metrics").body, R"(understudy_control_refused_total{reason="host"})"), 0);
}

// ctl names an IPv6 endpoint as RFC 9110 §7.2 says, "[::1]:PORT" (it sent a bare "::1").
TEST_F(Control, CtlReachesAnIpv6Endpoint) {
  start({.control_listen = "[::1]:0"});
  const std::string url = "http://[::1]:" + std::to_string(port_);
  CommandResult status = ctl({"--url", url, "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  CommandResult drain =
      ctl({"--url", url, "--token-file", token_path_, "drain", "app", "192.0.2.10", "--for", "1m"});
  EXPECT_EQ(drain.exit_code, 0) << drain.out << drain.err;
  EXPECT_EQ(digApp(), kFailedOverAnswer);
}

TEST_F(Control, WithoutATokenFileMutationsAreForbiddenAndReadsStillWork) {
  start({.token = false});
  HttpReply r = postWithToken("/pools/app/endpoints/192.0.2.10/drain");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.json()["error"], "mutations disabled: set control.token_file");
  EXPECT_EQ(post("/reload").status, 403);
  EXPECT_EQ(get("/status").status, 200);
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_EQ(digApp(), kPrimaryAnswer);
}

TEST_F(Control, ReloadThroughTheEndpointIsTheSameAsSighup) {
  start();
  HttpReply r = postWithToken("/reload");
  EXPECT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(pollUntil([&] { return get("/status").json()["reloads"]["ok"] == 1; }, 10s, 20ms))
      << log();
  EXPECT_NE(log().find("control request: reloading"), std::string::npos);
  EXPECT_EQ(metric(get("/metrics").body, R"(understudy_reloads_total{result="ok"})"), 1);
  // Overrides survive a reload.
  ASSERT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/drain").status, 200);
  ASSERT_EQ(postWithToken("/reload").status, 202);
  ASSERT_TRUE(pollUntil([&] { return get("/status").json()["reloads"]["ok"] == 2; }, 10s, 20ms));
  EXPECT_EQ(endpointStatus("192.0.2.10")["override"]["kind"], "drain");
  EXPECT_EQ(digApp(), kFailedOverAnswer);
}

// Issue 12: an override on an endpoint that a reload removed was kept silently. Now it is listed
// (/status, /metrics, ctl status, one WARN per reload), expires or is cleared as usual, and
// applies again if a reload brings the endpoint back while it lasts.
TEST_F(Control, OverridesOnEndpointsAReloadRemovedAreListedAndCanBeCleared) {
  start();
  ASSERT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/drain?for=10m").status, 200);
  auto reload = [&](const Options& o, int n) {
    writeFile(dns_->configPath(), config(o));
    dns_->process().signal(SIGHUP);
    return pollUntil([&] { return get("/status").json()["reloads"]["ok"] == n; }, 10s, 20ms);
  };
  const std::string orphan =
      R"(understudy_endpoint_override_orphaned{pool="app",endpoint="192.0.2.10",kind="drain"})";

  ASSERT_TRUE(reload({.primary_endpoint = false}, 1)) << log();
  EXPECT_EQ(digApp(), "192.0.2.20/300");
  Json status = get("/status").json();
  ASSERT_EQ(status["orphaned_overrides"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["orphaned_overrides"][0]["pool"], "app");
  EXPECT_EQ(status["orphaned_overrides"][0]["endpoint"], "192.0.2.10");
  EXPECT_EQ(status["orphaned_overrides"][0]["kind"], "drain");
  EXPECT_TRUE(status["orphaned_overrides"][0]["expires"].is_string());
  EXPECT_EQ(metric(get("/metrics").body, orphan), 1);
  auto line = dns_->process().waitForLogLine("override(s) on endpoints no longer in the", 2s);
  ASSERT_TRUE(line) << log();
  EXPECT_NE(line->find("warning"), std::string::npos) << *line;
  EXPECT_NE(line->find("reload: 1 override(s)"), std::string::npos) << *line;
  EXPECT_NE(line->find("drain on app/192.0.2.10 until "), std::string::npos) << *line;
  CommandResult ctl_status = ctl({"--url", url(), "status"});
  EXPECT_TRUE(std::regex_search(
      ctl_status.out, std::regex(R"(no longer in the configuration[^\n]*\n.*\napp +192\.0\.2\.10 +)"
                                 R"(drain until \d{4}-)")))
      << ctl_status.out;

  // Back while it lasts: the drain applies again, and the log says so.
  ASSERT_TRUE(reload({}, 2)) << log();
  EXPECT_EQ(digApp(), kFailedOverAnswer);
  EXPECT_EQ(endpointStatus("192.0.2.10")["override"]["kind"], "drain");
  EXPECT_TRUE(get("/status").json()["orphaned_overrides"].empty());
  EXPECT_FALSE(metric(get("/metrics").body, orphan));
  EXPECT_TRUE(
      dns_->process().waitForLogLine("is back in the configuration; its override applies", 2s));

  // Removed again, then cleared by name although the configuration no longer has it.
  ASSERT_TRUE(reload({.primary_endpoint = false}, 3)) << log();
  EXPECT_EQ(get("/status").json()["orphaned_overrides"].size(), 1u);
  EXPECT_EQ(postWithToken("/pools/app/endpoints/192.0.2.10/drain").status, 404);
  CommandResult clear =
      ctl({"-c", dns_->configPath(), "--url", url(), "clear", "app", "192.0.2.10"});
  EXPECT_EQ(clear.exit_code, 0) << clear.out << clear.err;
  EXPECT_TRUE(get("/status").json()["orphaned_overrides"].empty());
  ASSERT_TRUE(reload({}, 4)) << log();
  EXPECT_EQ(digApp(), kPrimaryAnswer);
  EXPECT_TRUE(endpointStatus("192.0.2.10")["override"].is_null());
}

TEST_F(Control, ABusyControlPortIsFatalAtStartUp) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor busy(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = busy.local_endpoint().port();
  std::string path =
      dir_.write("busy.yaml", config({.control_listen = "127.0.0.1:" + std::to_string(port)}));
  Process p({understudyBinary(), "-c", path}, dir_.file("busy.log"));
  auto status = p.waitExit(10s);
  ASSERT_TRUE(status) << p.log();
  EXPECT_EQ(*status, 1) << p.log();
  EXPECT_NE(p.log().find("control: cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << p.log();
  EXPECT_EQ(p.log().find("ready:"), std::string::npos) << p.log();
}

TEST_F(Control, RefusesOversizedRequestsAndCarriesOn) {
  start();
  // A body over 64 KiB is refused without reading it all.
  HttpReply big;
  try {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(5s);
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{http::verb::post, "/reload", 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = std::string(100 * 1024, 'x');
    req.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, req, ec);  // the server may close before it has all of it
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res, ec);
    big.status = ec ? 0 : res.result_int();
  } catch (const std::exception& e) {
    big.error = e.what();
  }
  EXPECT_EQ(big.status, 413) << big.error;
  EXPECT_EQ(get("/status").status, 200);  // and the endpoint carries on
}

// ---------------------------------------------------------------------------------------------
// understudy ctl

TEST_F(Control, CtlStatusExplainDrainClearAndReload) {
  uint16_t fixed = pickFreePort();
  start({.control_listen = "127.0.0.1:" + std::to_string(fixed)});
  ASSERT_EQ(port_, fixed);
  const std::string config_path = dns_->configPath();

  // -c: address and token from the daemon's own config.
  CommandResult status = ctl({"-c", config_path, "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_TRUE(std::regex_search(
      status.out,
      std::regex(R"(POOL +ENDPOINT +PRIO +STATE +SERVING +SINCE +LAST-PROBE +OVERRIDE)")))
      << status.out;
  EXPECT_TRUE(std::regex_search(
      status.out, std::regex(R"(\napp +192\.0\.2\.10 +1 +up +yes +\d{4}-\d\d-\d\d )")))
      << status.out;
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(\napp +192\.0\.2\.20 +2 +up +yes )")))
      << status.out;
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(RECORD +TYPE +ANSWER +WHY)")))
      << status.out;
  EXPECT_TRUE(std::regex_search(
      status.out,
      std::regex(R"(\napp\.f\.test\. +A +192\.0\.2\.10 \(primary, ttl 300\) +primary)")))
      << status.out;

  CommandResult explain = ctl({"--url", url(), "explain", "app.f.test", "A"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_NE(explain.out.find("app.f.test. A -> NOERROR, ttl 300"), std::string::npos)
      << explain.out;
  EXPECT_NE(explain.out.find("app.f.test. 300 IN A 192.0.2.10"), std::string::npos) << explain.out;

  CommandResult drain = ctl({"-c", config_path, "drain", "app", "192.0.2.10", "--for", "10m"});
  ASSERT_EQ(drain.exit_code, 0) << drain.out << drain.err;
  EXPECT_EQ(drain.out, "drain on app/192.0.2.10 for 10m\n");
  EXPECT_EQ(digApp(), kFailedOverAnswer);
  status = ctl({"--url", url(), "status"});
  EXPECT_TRUE(std::regex_search(
      status.out, std::regex(R"(\napp +192\.0\.2\.10 +1 +up +no .* drain until \d{4}-)")))
      << status.out;

  CommandResult undrain = ctl({"-c", config_path, "undrain", "app", "192.0.2.10"});
  ASSERT_EQ(undrain.exit_code, 0) << undrain.err;
  EXPECT_EQ(digApp(), kPrimaryAnswer);

  CommandResult down = ctl({"-c", config_path, "force-down", "app", "192.0.2.10"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(digApp(), kFailedOverAnswer);
  CommandResult clear = ctl({"-c", config_path, "clear", "app", "192.0.2.10"});
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  EXPECT_EQ(digApp(), kPrimaryAnswer);

  CommandResult reload = ctl({"-c", config_path, "reload"});
  ASSERT_EQ(reload.exit_code, 0) << reload.err;
  ASSERT_TRUE(pollUntil([&] { return get("/status").json()["reloads"]["ok"] == 1; }, 10s, 20ms));

  // Failures exit non-zero with the server's reason.
  CommandResult unknown = ctl({"-c", config_path, "drain", "app", "192.0.2.99"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("pool 'app' has no endpoint 192.0.2.99"), std::string::npos)
      << unknown.err;
  std::string bad_token = dir_.write("bad.token", "definitely-not-the-token\n");
  CommandResult unauthorized =
      ctl({"--url", url(), "--token-file", bad_token, "drain", "app", "192.0.2.10"});
  EXPECT_EQ(unauthorized.exit_code, 1);
  EXPECT_NE(unauthorized.err.find("wrong bearer token (HTTP 401)"), std::string::npos)
      << unauthorized.err;
  CommandResult unreachable = ctl({"--url", "http://127.0.0.1:1", "status"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the control endpoint"), std::string::npos)
      << unreachable.err;
  EXPECT_EQ(digApp(), kPrimaryAnswer);
}

// ---------------------------------------------------------------------------------------------
// log.format: json

TEST_F(Control, JsonLogLinesParseAndTheFormatFollowsReloads) {
  start({.log_format = "json"});
  // A WARN line from the control endpoint among them.
  post("/pools/app/endpoints/192.0.2.10/drain");
  ASSERT_TRUE(dns_->process().waitForLogLine("missing bearer token", 2s));
  std::istringstream in(log());
  std::string line;
  size_t lines = 0;
  bool ready = false;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not JSON: " << line;
    EXPECT_TRUE(j["time"].is_string()) << line;
    EXPECT_TRUE(j["level"].is_string()) << line;
    ASSERT_TRUE(j["msg"].is_string()) << line;
    ready = ready || j["msg"].get<std::string>().rfind("ready: ", 0) == 0;
    ++lines;
  }
  EXPECT_GE(lines, 5u);
  EXPECT_TRUE(ready) << log();

  // Back to text on reload.
  writeFile(dns_->configPath(), config({.log_format = "text"}));
  dns_->process().signal(SIGHUP);
  ASSERT_TRUE(dns_->process().waitForLogLine("reload done", 10s)) << log();
  auto text_line = dns_->process().waitForLogLine("reload done", 1s);
  ASSERT_TRUE(text_line);
  EXPECT_NE(text_line->front(), '{') << *text_line;
}

}  // namespace
}  // namespace understudy::systest
