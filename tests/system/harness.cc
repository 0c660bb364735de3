#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace understudy::systest {

namespace fs = std::filesystem;

namespace {

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

int decodeStatus(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// argv for execvp, built before fork() so the child only calls async-signal-safe functions.
std::vector<char*> cArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void childExec(char* const* argv, int out_fd, int err_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  // Nothing else crosses exec: sockets the test holds open (backends' listeners, which Asio
  // does not open with SOCK_CLOEXEC) must close when the test closes them, not live on in a child.
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 4096; ++fd) close(fd);
  }
  execvp(argv[0], argv);
  const char msg[] = "exec failed\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(127);
}

std::string toStr(char* s) {
  if (!s) return "";
  std::string out(s);
  free(s);
  return out;
}

const char* kOpcodes[] = {"QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE"};

std::string opcodeName(int op) {
  if (op >= 0 && op < 6) return kOpcodes[op];
  return "OPCODE" + std::to_string(op);
}

Rr rrFromLdns(const ldns_rr* rr, bool fold_names) {
  Rr out;
  out.owner = toStr(ldns_rdf2str(ldns_rr_owner(rr)));
  if (fold_names) out.owner = lower(out.owner);
  out.ttl = ldns_rr_ttl(rr);
  out.rclass = toStr(ldns_rr_class2str(ldns_rr_get_class(rr)));
  out.type = toStr(ldns_rr_type2str(ldns_rr_get_type(rr)));
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (i) out.rdata += ' ';
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    std::string text = toStr(ldns_rdf2str(rdf));
    if (fold_names && ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME) text = lower(text);
    out.rdata += text;
  }
  return out;
}

std::vector<Rr> rrsFromLdns(const ldns_rr_list* list, bool fold_names) {
  std::vector<Rr> out;
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    out.push_back(rrFromLdns(ldns_rr_list_rr(list, i), fold_names));
  }
  return out;
}

// "owner ttl class type rdata..." as printed by dig/kdig (whitespace separated).
std::optional<Rr> parseRrLine(const std::string& line) {
  std::istringstream in(line);
  Rr rr;
  std::string ttl;
  if (!(in >> rr.owner >> ttl >> rr.rclass >> rr.type)) return std::nullopt;
  try {
    rr.ttl = static_cast<uint32_t>(std::stoul(ttl));
  } catch (...) {
    return std::nullopt;
  }
  std::string rest;
  std::getline(in, rest);
  auto b = rest.find_first_not_of(" \t");
  auto e = rest.find_last_not_of(" \t\r");
  rr.rdata = b == std::string::npos ? "" : rest.substr(b, e - b + 1);
  return rr;
}

std::set<std::string> splitFlags(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  std::string f;
  while (in >> f) out.insert(lower(f));
  return out;
}

int makeSocket(const std::string& addr, uint16_t port, int type, sockaddr_storage* ss,
               socklen_t* len) {
  std::memset(ss, 0, sizeof *ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  int family;
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    family = AF_INET;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
  } else {
    throw std::runtime_error("not a numeric address: " + addr);
  }
  int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error(errnoText("socket"));
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/understudy-systest-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error(errnoText("mkdtemp"));
  path_ = buf.data();
}

TempDir::~TempDir() {
  bool keep = std::getenv("UNDERSTUDY_KEEP_TEMP") != nullptr || ::testing::Test::HasFailure();
  if (keep) {
    std::cerr << "[harness] kept " << path_ << " (logs and configs of this test)\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(std::string_view name, std::string_view content) const {
  std::string p = file(name);
  fs::create_directories(fs::path(p).parent_path());
  writeFile(p, content);
  return p;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool pollUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    // Waiting for a condition, not for time: the step only bounds how often we look.
    poll(nullptr, 0, static_cast<int>(std::min<int64_t>(step.count(), remainingMs(deadline) + 1)));
  }
}

std::string sanitizerReport(std::string_view output) {
  // ASan and LSan: "==PID==ERROR: AddressSanitizer: ...", "==PID==ERROR: LeakSanitizer: ...";
  // UBSan: "file:line:col: runtime error: ...".
  size_t at = std::string_view::npos;
  for (std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                  "ERROR: UndefinedBehaviorSanitizer", ": runtime error: "}) {
    at = std::min(at, output.find(marker));
  }
  if (at == std::string_view::npos) return "";
  size_t begin = output.rfind('\n', at);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  size_t end = begin;
  for (int lines = 0; lines < 40 && end != std::string_view::npos; ++lines) {
    end = output.find('\n', end + 1);
  }
  return std::string(output.substr(begin, end == std::string_view::npos ? end : end - begin));
}

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(errnoText("pipe2"));
  }
  auto args = cArgv(argv);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(errnoText("fork"));
  if (pid == 0) childExec(args.data(), out_pipe[1], err_pipe[1], parent);
  close(out_pipe[1]);
  close(err_pipe[1]);

  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool killed = false;
  char buf[4096];
  while (open_fds > 0) {
    int left = remainingMs(deadline);
    if (left == 0 && !killed) {
      kill(pid, SIGKILL);
      killed = true;
      result.timed_out = true;
      deadline = Clock::now() + 2s;  // drain what is left after the kill
      continue;
    }
    if (left == 0) break;
    int n = poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int st = 0;
  if (!killed && waitpid(pid, &st, WNOHANG) == 0) {
    // Pipes closed but the child is still running (it closed its outputs): bound the wait.
    if (!pollUntil([&] { return waitpid(pid, &st, WNOHANG) == pid; },
                   std::chrono::milliseconds(std::max(remainingMs(deadline), 100)))) {
      kill(pid, SIGKILL);
      result.timed_out = true;
      waitpid(pid, &st, 0);
    }
  } else if (killed) {
    waitpid(pid, &st, 0);
  }
  result.exit_code = decodeStatus(st);
  for (const std::string* output : {&result.err, &result.out}) {
    std::string report = sanitizerReport(*output);
    if (!report.empty()) ADD_FAILURE() << "sanitizer report from `" << argv[0] << "`:\n" << report;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

Process::Process(const std::vector<std::string>& argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error(errnoText("open " + log_path_));
  auto args = cArgv(argv);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(log_fd);
    throw std::runtime_error(errnoText("fork"));
  }
  if (pid_ == 0) childExec(args.data(), log_fd, log_fd, parent);
  close(log_fd);
}

Process::~Process() {
  stop(2s);
  std::string report = sanitizerReport(log());
  if (!report.empty()) ADD_FAILURE() << "sanitizer report in " << log_path_ << ":\n" << report;
}

bool Process::running() {
  if (status_ || pid_ <= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = decodeStatus(st);
    return false;
  }
  return true;
}

std::optional<int> Process::waitExit(std::chrono::milliseconds timeout) {
  pollUntil([&] { return !running(); }, timeout, 5ms);
  return status_;
}

void Process::signal(int sig) const {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_.value_or(-1);
  kill(pid_, SIGTERM);
  if (waitExit(grace)) return *status_;
  std::cerr << "[harness] pid " << pid_ << " ignored SIGTERM for " << grace.count()
            << " ms; sending SIGKILL\n";
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  status_ = decodeStatus(st);
  return *status_;
}

std::optional<std::string> Process::waitForLogLine(std::string_view needle,
                                                   std::chrono::milliseconds timeout) {
  std::optional<std::string> found;
  auto scan = [&] {
    std::istringstream in(log());
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(needle) != std::string::npos) {
        found = line;
        return true;
      }
    }
    return false;
  };
  pollUntil([&] { return scan() || !running(); }, timeout);
  if (!found) scan();  // one last look after an exit
  return found;
}

// ---------------------------------------------------------------------------------------------

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string rcodeName(int rcode) {
  static const char* names[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  if (rcode >= 0 && rcode <= 10) return names[rcode];
  if (rcode == 16) return "BADVERS";
  return "RCODE" + std::to_string(rcode);
}

Bytes buildQuery(const QuerySpec& spec) {
  ldns_rdf* name = ldns_dname_new_frm_str(spec.name.c_str());
  if (!name) throw std::runtime_error("bad query name: " + spec.name);
  uint16_t flags = (spec.rd ? LDNS_RD : 0) | (spec.cd ? LDNS_CD : 0);
  ldns_pkt* pkt = ldns_pkt_query_new(name, static_cast<ldns_rr_type>(spec.type),
                                     static_cast<ldns_rr_class>(spec.qclass), flags);
  ldns_pkt_set_id(pkt, spec.id);
  ldns_pkt_set_opcode(pkt, static_cast<ldns_pkt_opcode>(spec.opcode));
  if (spec.edns_udp) {
    ldns_pkt_set_edns_udp_size(pkt, *spec.edns_udp);
    ldns_pkt_set_edns_version(pkt, spec.edns_version);
    ldns_pkt_set_edns_do(pkt, spec.edns_do);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  ldns_status st = ldns_pkt2wire(&wire, pkt, &size);
  ldns_pkt_free(pkt);
  if (st != LDNS_STATUS_OK) throw std::runtime_error("ldns_pkt2wire failed");
  Bytes out(wire, wire + size);
  free(wire);
  return out;
}

std::string Rr::str() const {
  return owner + " " + std::to_string(ttl) + " " + rclass + " " + type + " " + rdata;
}

std::string Message::str() const {
  std::ostringstream out;
  out << "opcode " << opcode << ", rcode " << rcode << ", id " << id << ", flags:";
  for (const auto& f : flags) out << ' ' << f;
  if (!protocol.empty()) out << ", via " << protocol;
  out << ", " << size << " bytes\n";
  if (has_edns) {
    out << "  EDNS version " << edns_version << ", udp " << edns_udp << (edns_do ? ", do" : "")
        << "\n";
  } else {
    out << "  no EDNS\n";
  }
  for (const auto& q : question) out << "  QUESTION   " << q << "\n";
  for (const auto& r : answer) out << "  ANSWER     " << r.str() << "\n";
  for (const auto& r : authority) out << "  AUTHORITY  " << r.str() << "\n";
  for (const auto& r : additional) out << "  ADDITIONAL " << r.str() << "\n";
  return out.str();
}

std::optional<Message> parseWire(const Bytes& wire, std::string* error, bool fold_names) {
  ldns_pkt* pkt = nullptr;
  ldns_status st = ldns_wire2pkt(&pkt, wire.data(), wire.size());
  if (st != LDNS_STATUS_OK) {
    if (error) *error = std::string("ldns_wire2pkt: ") + ldns_get_errorstr_by_id(st);
    return std::nullopt;
  }
  Message m;
  m.size = wire.size();
  m.id = ldns_pkt_id(pkt);
  m.opcode = opcodeName(ldns_pkt_get_opcode(pkt));
  m.has_edns = ldns_pkt_edns(pkt);
  int rcode = ldns_pkt_get_rcode(pkt);
  if (m.has_edns) rcode |= ldns_pkt_edns_extended_rcode(pkt) << 4;
  m.rcode = rcodeName(rcode);
  if (ldns_pkt_qr(pkt)) m.flags.insert("qr");
  if (ldns_pkt_aa(pkt)) m.flags.insert("aa");
  if (ldns_pkt_tc(pkt)) m.flags.insert("tc");
  if (ldns_pkt_rd(pkt)) m.flags.insert("rd");
  if (ldns_pkt_ra(pkt)) m.flags.insert("ra");
  if (ldns_pkt_ad(pkt)) m.flags.insert("ad");
  if (ldns_pkt_cd(pkt)) m.flags.insert("cd");
  const ldns_rr_list* q = ldns_pkt_question(pkt);
  for (size_t i = 0; q && i < ldns_rr_list_rr_count(q); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(q, i);
    m.question.push_back(toStr(ldns_rdf2str(ldns_rr_owner(rr))) + " " +
                         toStr(ldns_rr_class2str(ldns_rr_get_class(rr))) + " " +
                         toStr(ldns_rr_type2str(ldns_rr_get_type(rr))));
  }
  m.answer = rrsFromLdns(ldns_pkt_answer(pkt), fold_names);
  m.authority = rrsFromLdns(ldns_pkt_authority(pkt), fold_names);
  m.additional = rrsFromLdns(ldns_pkt_additional(pkt), fold_names);
  if (m.has_edns) {
    m.edns_version = ldns_pkt_edns_version(pkt);
    m.edns_udp = ldns_pkt_edns_udp_size(pkt);
    m.edns_do = ldns_pkt_edns_do(pkt);
  }
  ldns_pkt_free(pkt);
  return m;
}

// ---------------------------------------------------------------------------------------------

std::optional<Bytes> udpExchange(const std::string& addr, uint16_t port, const Bytes& query,
                                 std::chrono::milliseconds timeout) {
  sockaddr_storage ss;
  socklen_t len;
  int fd = makeSocket(addr, port, SOCK_DGRAM, &ss, &len);
  std::optional<Bytes> result;
  if (sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
      static_cast<ssize_t>(query.size())) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & POLLIN)) {
      Bytes buf(65535);
      ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n >= 0) {
        buf.resize(static_cast<size_t>(n));
        result = std::move(buf);
      }
    }
  }
  close(fd);
  return result;
}

Bytes frame(const Bytes& msg) {
  Bytes out(msg.size() + 2);
  out[0] = static_cast<uint8_t>(msg.size() >> 8);
  out[1] = static_cast<uint8_t>(msg.size() & 0xff);
  std::copy(msg.begin(), msg.end(), out.begin() + 2);
  return out;
}

std::optional<Bytes> tcpExchange(const std::string& addr, uint16_t port, const Bytes& query,
                                 std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  TcpClient c(addr, port, timeout);
  if (!c.connected() || !c.send(frame(query))) return std::nullopt;
  return c.readMessage(std::chrono::milliseconds(remainingMs(deadline)));
}

TcpClient::TcpClient(const std::string& addr, uint16_t port, std::chrono::milliseconds timeout) {
  sockaddr_storage ss;
  socklen_t len;
  fd_ = makeSocket(addr, port, SOCK_STREAM, &ss, &len);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    close();
    return;
  }
  pollfd p{fd_, POLLOUT, 0};
  int err = 0;
  socklen_t elen = sizeof err;
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
    close();
  }
}

TcpClient::~TcpClient() {
  close();
}

void TcpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TcpClient::send(const Bytes& bytes) {
  if (fd_ < 0) return false;
  size_t off = 0;
  auto deadline = Clock::now() + 2s;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, remainingMs(deadline)) != 1) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool TcpClient::readExact(uint8_t* buf, size_t n, Clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd_, buf + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return false;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, remainingMs(deadline)) != 1) return false;
  }
  return true;
}

std::optional<Bytes> TcpClient::readMessage(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  auto deadline = Clock::now() + timeout;
  uint8_t len[2];
  if (!readExact(len, 2, deadline)) return std::nullopt;
  Bytes msg(static_cast<size_t>(len[0]) << 8 | len[1]);
  if (!readExact(msg.data(), msg.size(), deadline)) return std::nullopt;
  return msg;
}

bool TcpClient::waitClosed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (true) {
    ssize_t r = recv(fd_, buf, sizeof buf, 0);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset
    if (r > 0) continue;
    int left = remainingMs(deadline);
    if (left == 0) return false;
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, left);
  }
}

namespace {

// The kernel's ephemeral range (net.ipv4.ip_local_port_range): daemons under test listen on port 0
// and get their ports from there, so picked ports stay below it.
std::pair<int, int> ephemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  in >> low >> high;
  return {low, high};
}

bool freeOnLoopback(uint16_t port) {
  sockaddr_storage ss;
  socklen_t len;
  int udp = makeSocket("127.0.0.1", port, SOCK_DGRAM, &ss, &len);
  bool ok = bind(udp, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  int tcp = makeSocket("127.0.0.1", port, SOCK_STREAM, &ss, &len);
  ok = ok && bind(tcp, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  ::close(tcp);
  ::close(udp);
  return ok;
}

}  // namespace

// A port for a peer that cannot be handed a socket (knotd, a fixed control listen). Two dangers
// with "bind port 0, read it, close it": a daemon under test in a parallel test binding port 0
// may get the same port in the window before the peer binds it, and peers such as knotd set
// SO_REUSEPORT, so both binds succeed and the two servers split the queries (seen as a flaky
// answer from the wrong server). So: ports below the ephemeral range, where port 0 never lands,
// each claimed for the life of this test process by a lock file that every test process honours.
uint16_t pickFreePort() {
  static std::vector<int> claims;  // lock descriptors, held until the process exits
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  const auto [ephemeral_low, ephemeral_high] = ephemeralRange();
  int low = 20000, high = ephemeral_low - 1;
  if (high - low < 1000) {  // an unusual range: use the ports above it instead
    low = ephemeral_high + 1;
    high = 65535;
  }
  const std::string dir = "/tmp/understudy-test-ports";
  ::mkdir(dir.c_str(), 01777);
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(random));
    std::string lock = dir + "/" + std::to_string(port);
    int fd = ::open(lock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || !freeOnLoopback(port)) {
      ::close(fd);
      continue;
    }
    claims.push_back(fd);
    return port;
  }
  throw std::runtime_error("no free loopback port found below the ephemeral range");
}

// ---------------------------------------------------------------------------------------------

namespace {

// The text in the last "..." of a dig/kdig NSID line: `6e 73 ("ns")`, `6E73 "ns"`.
std::string quotedTail(const std::string& s) {
  size_t end = s.rfind('"');
  size_t begin = end == std::string::npos || end == 0 ? std::string::npos : s.rfind('"', end - 1);
  if (begin == std::string::npos) return s;
  return s.substr(begin + 1, end - begin - 1);
}

DigResult parseDigYaml(const CommandResult& r) {
  DigResult res;
  res.output = r.out + r.err;
  if (r.timed_out) {
    res.error = "dig timed out";
    return res;
  }
  try {
    YAML::Node doc = YAML::Load(r.out);
    if (!doc.IsSequence() || doc.size() == 0) {
      res.error = "dig printed no YAML message";
      return res;
    }
    YAML::Node item = doc[doc.size() - 1];
    if (item["type"].as<std::string>("") != "MESSAGE") {
      res.error = "dig: " + item["message"].as<std::string>("(no message)");
      return res;
    }
    YAML::Node m = item["message"];
    Message& msg = res.msg;
    msg.protocol = m["socket_protocol"].as<std::string>("");
    std::string size = m["message_size"].as<std::string>("0b");
    msg.size = std::stoul(size);
    YAML::Node d = m["response_message_data"];
    if (!d) {
      res.error = "dig: no response_message_data";
      return res;
    }
    msg.opcode = d["opcode"].as<std::string>("");
    msg.rcode = d["status"].as<std::string>("");
    msg.id = static_cast<uint16_t>(d["id"].as<unsigned>(0));
    if (d["flags"] && d["flags"].IsScalar()) msg.flags = splitFlags(d["flags"].as<std::string>());
    if (YAML::Node edns = d["OPT_PSEUDOSECTION"]["EDNS"]) {
      msg.has_edns = true;
      msg.edns_version = edns["version"].as<int>(-1);
      msg.edns_udp = edns["udp"].as<int>(-1);
      if (edns["flags"] && edns["flags"].IsScalar()) {
        msg.edns_do = splitFlags(edns["flags"].as<std::string>()).count("do") != 0;
      }
      // NSID: 6e 73 2d 31 ("ns-1")
      if (edns["NSID"] && edns["NSID"].IsScalar()) msg.nsid = quotedTail(edns["NSID"].Scalar());
    }
    for (const auto& q : d["QUESTION_SECTION"]) {
      std::istringstream in(q.as<std::string>());
      std::string name, cls, type;
      in >> name >> cls >> type;
      msg.question.push_back(name + " " + cls + " " + type);
    }
    auto section = [&](const char* key, std::vector<Rr>& out) {
      for (const auto& line : d[key]) {
        auto rr = parseRrLine(line.as<std::string>());
        if (!rr) throw std::runtime_error("unparsable record line: " + line.as<std::string>());
        out.push_back(*rr);
      }
    };
    section("ANSWER_SECTION", msg.answer);
    section("AUTHORITY_SECTION", msg.authority);
    section("ADDITIONAL_SECTION", msg.additional);
    res.ok = true;
  } catch (const std::exception& e) {
    res.error = std::string("cannot parse dig output: ") + e.what();
  }
  return res;
}

DigResult parseKdigText(const CommandResult& r) {
  DigResult res;
  res.output = r.out + r.err;
  if (r.timed_out) {
    res.error = "kdig timed out";
    return res;
  }
  static const std::regex header(R"(->>HEADER<<- opcode: (\w+); status: (\w+); id: (\d+))");
  static const std::regex flags(R"(^;; Flags:([^;]*);)");
  static const std::regex edns(R"(^;; Version: (\d+); flags:([^;]*); UDP size: (\d+) B)");
  static const std::regex from(R"(^;; From .*\((UDP|TCP)\))");
  static const std::regex received(R"(^;; Received (\d+) B)");
  Message& msg = res.msg;
  std::istringstream in(r.out);
  std::string line;
  std::vector<Rr>* section = nullptr;
  bool in_question = false, in_edns = false, saw_header = false;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.empty()) {
      section = nullptr;
      in_question = in_edns = false;
      continue;
    }
    if (std::regex_search(line, m, header)) {
      saw_header = true;
      msg.opcode = m[1];
      msg.rcode = m[2];
      msg.id = static_cast<uint16_t>(std::stoul(m[3]));
    } else if (std::regex_search(line, m, flags)) {
      msg.flags = splitFlags(m[1]);
    } else if (line.rfind(";; EDNS PSEUDOSECTION", 0) == 0) {
      in_edns = msg.has_edns = true;
    } else if (in_edns && std::regex_search(line, m, edns)) {
      msg.edns_version = std::stoi(m[1]);
      msg.edns_do = splitFlags(m[2]).count("do") != 0;
      msg.edns_udp = std::stoi(m[3]);
    } else if (in_edns && line.rfind(";; NSID: ", 0) == 0) {
      msg.nsid = quotedTail(line);
    } else if (line.rfind(";; QUESTION SECTION", 0) == 0) {
      in_question = true;
    } else if (in_question && line.rfind(";; ", 0) == 0) {
      std::istringstream q(line.substr(3));
      std::string name, cls, type;
      q >> name >> cls >> type;
      msg.question.push_back(name + " " + cls + " " + type);
    } else if (line.rfind(";; ANSWER SECTION", 0) == 0) {
      section = &msg.answer;
    } else if (line.rfind(";; AUTHORITY SECTION", 0) == 0) {
      section = &msg.authority;
    } else if (line.rfind(";; ADDITIONAL SECTION", 0) == 0) {
      section = &msg.additional;
    } else if (std::regex_search(line, m, received)) {
      msg.size = std::stoul(m[1]);
    } else if (std::regex_search(line, m, from)) {
      msg.protocol = m[1];
    } else if (section && line[0] != ';') {
      if (auto rr = parseRrLine(line)) section->push_back(*rr);
    }
  }
  if (!saw_header) {
    res.error = "kdig printed no response";
    return res;
  }
  res.ok = true;
  return res;
}

}  // namespace

DigResult dig(const std::string& server, uint16_t port, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"dig",   "@" + server, "-p",     std::to_string(port),
                                   "+yaml", "+tries=1",   "+time=2"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parseDigYaml(runCommand(argv, 15s));
}

DigResult kdig(const std::string& server, uint16_t port, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"kdig",     "@" + server, "-p", std::to_string(port),
                                   "+retry=0", "+time=2"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parseKdigText(runCommand(argv, 15s));
}

// ---------------------------------------------------------------------------------------------

std::string systemDataPath(std::string_view name) {
  return std::string(UNDERSTUDY_TEST_DATA) + "/system/" + std::string(name);
}

std::string understudyBinary() {
  if (const char* env = std::getenv("UNDERSTUDY_BINARY_OVERRIDE")) return env;
  return UNDERSTUDY_BINARY;
}

Understudy::Understudy(const TempDir& dir, std::string_view config_yaml, std::string_view name,
                       std::chrono::milliseconds ready_timeout) {
  std::string n(name);
  config_path_ = dir.write(n + ".yaml", config_yaml);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{understudyBinary(), "-c", config_path_}, dir.file(n + ".log"));
  auto ready = process_->waitForLogLine("ready:", ready_timeout);
  if (!ready) {
    bool alive = process_->running();
    process_->stop(2s);
    throw std::runtime_error("understudy did not log 'ready:' within " +
                             std::to_string(ready_timeout.count()) + " ms (" +
                             (alive ? "still running" : "exited") + "); config " + config_path_ +
                             "; log:\n" + process_->log());
  }
  ready_line_ = *ready;
  static const std::regex re(R"(listening on (udp|tcp) (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+))");
  std::istringstream in(process_->log());
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, re)) continue;
    std::string addr = m[2];
    if (addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
    listeners_.push_back({m[1], addr, static_cast<uint16_t>(std::stoul(m[3]))});
  }
  if (listeners_.empty()) {
    process_->stop(2s);
    throw std::runtime_error("understudy logged no 'listening on' line; log:\n" + process_->log());
  }
}

uint16_t Understudy::port(std::string_view proto, std::string_view address) const {
  bool want_v6 = address.find(':') != std::string_view::npos;
  for (const auto& l : listeners_) {
    bool v6 = l.address.find(':') != std::string::npos;
    if (l.proto == proto && v6 == want_v6) return l.port;
  }
  throw std::runtime_error("understudy has no " + std::string(proto) + " listener like " +
                           std::string(address));
}

Knot::Knot(const TempDir& dir, const std::vector<Zone>& zones, uint16_t udp_max_payload) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (tryStart(dir, zones, udp_max_payload, attempt)) return;
  }
  throw std::runtime_error("knotd did not start after 3 attempts; last log:\n" +
                           (process_ ? process_->log() : std::string("(none)")));
}

bool Knot::tryStart(const TempDir& dir, const std::vector<Zone>& zones, uint16_t payload,
                    int attempt) {
  std::string base = dir.file("knot" + std::to_string(attempt));
  fs::create_directories(base + "/run");
  fs::create_directories(base + "/db");
  fs::create_directories(base + "/zones");
  port_ = pickFreePort();
  std::ostringstream conf;
  conf << "# generated by tests/system/harness.cc\n"
       << "server:\n"
       << "    listen: 127.0.0.1@" << port_ << "\n"
       << "    rundir: " << base << "/run\n"
       << "    udp-max-payload: " << payload << "\n"
       << "    udp-workers: 1\n"
       << "    tcp-workers: 1\n"
       << "    background-workers: 1\n"
       << "log:\n"
       << "  - target: stderr\n"
       << "    any: info\n"
       << "database:\n"
       << "    storage: " << base << "/db\n"
       << "template:\n"
       << "  - id: default\n"
       << "    storage: " << base << "/zones\n"
       << "    zonefile-sync: -1\n"
       << "    zonefile-load: whole\n"
       << "    journal-content: none\n"
       << "zone:\n";
  for (const auto& z : zones) {
    std::string file = z.domain + ".zone";
    fs::copy_file(z.file, base + "/zones/" + file, fs::copy_options::overwrite_existing);
    conf << "  - domain: " << z.domain << "\n"
         << "    file: " << file << "\n";
  }
  std::string conf_path = base + "/knot.conf";
  writeFile(conf_path, conf.str());
  process_ = std::make_unique<Process>(std::vector<std::string>{"knotd", "-c", conf_path},
                                       base + "/knotd.log");

  auto answersSoa = [&](const Zone& z) -> bool {
    QuerySpec q;
    q.name = z.domain;
    q.type = LDNS_RR_TYPE_SOA;
    q.id = 0x4b4e;
    auto resp = udpExchange("127.0.0.1", port_, buildQuery(q), 200ms);
    if (!resp) return false;
    auto m = parseWire(*resp);
    return m && m->rcode == "NOERROR" && m->hasFlag("aa") && m->answer.size() == 1;
  };
  bool ready = pollUntil(
      [&]() -> bool {
        if (!process_->running()) return true;  // stop polling; reported below
        return std::all_of(zones.begin(), zones.end(), answersSoa);
      },
      10s, 20ms);
  if (ready && process_->running()) return true;
  std::cerr << "[harness] knotd attempt " << attempt << " on port " << port_ << " failed; log:\n"
            << process_->log();
  process_->stop(2s);
  return false;
}

}  // namespace understudy::systest
