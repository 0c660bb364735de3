// YAML configuration -> validated plain structs. Every problem is collected (not only the first)
// and reported with file:line:column and the key path, so one `understudy check` run shows the
// operator everything that needs fixing.

#include <arpa/inet.h>
#include <glob.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "understudy/common/bounded_file.h"
#include "understudy/common/duration.h"
#include "understudy/common/host_port.h"
#include "understudy/config/config.h"
#include "understudy/config/host_name.h"
#include "understudy/config/token_file.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/zone/record.h"

namespace understudy::config {

std::string ListenAddress::str() const {
  return hostPort(address, port);
}

namespace {

constexpr uint64_t kMaxTtl = 2147483647;  // RFC 2181 §8: TTLs are 31-bit
constexpr uint32_t kDefaultZoneTtl = 3600;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kTypeOpt = 41;
constexpr unsigned kMaxThreads = 256;
constexpr std::chrono::milliseconds kMinTcpIdle{100};
constexpr std::chrono::milliseconds kMaxTcpIdle{3600 * 1000};

// ---- names -------------------------------------------------------------------------------------

const std::string kRootWire(1, '\0');

using dns::lowered;
using dns::nameToText;

// The config's words for a name dns::parseName refuses. Names in YAML were parsed with ldns
// before there was one parser for them, and its messages ("Empty label", "Label length overflow")
// are what `understudy check` has always printed; the hostile-config corpus and operators' own
// checks match them, so they stay. The zone-file reader and the control API use
// dns::nameErrorText.
const char* configNameError(dns::NameError error) {
  switch (error) {
    case dns::NameError::kEmptyLabel:
      return "Empty label";
    case dns::NameError::kLabelTooLong:
      return "Label length overflow";
    case dns::NameError::kNameTooLong:
      return "Domainname length overflow";
    case dns::NameError::kBadEscape:
    case dns::NameError::kDanglingBackslash:
      return "Syntax error, bad escape sequence";
    default:
      return dns::nameErrorText(error);  // "empty name", "contains whitespace"
  }
}

// "@" is the origin, names without a trailing dot are relative to it (RFC 1035 §5.1).
std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error) {
  uint8_t wire[dns::kMaxNameLength];
  size_t len = 0;
  if (dns::NameError why = dns::parseName(text, origin, wire, &len); why != dns::NameError::kNone) {
    *error = configNameError(why);
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(wire), len);
}

using dns::isSubdomain;

// ---- scalars -----------------------------------------------------------------------------------

std::optional<uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// "-5" and "99999999999999999999" are integers, merely out of range; "5x" is not one.
bool looksLikeInteger(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Durations: "500ms", "10s", "2m", "1h", "1h30m", or a bare number of seconds.
constexpr DurationSyntax kDurationSyntax{
    .units = duration_unit::kMilliseconds | duration_unit::kSeconds | duration_unit::kMinutes |
             duration_unit::kHours,
    .bare_seconds = true,
};
// TTLs: seconds, or units up to weeks ("5m", "1h30m", "1d"); never ms, a TTL is whole seconds.
constexpr DurationSyntax kTtlSyntax{
    .units = duration_unit::kSeconds | duration_unit::kMinutes | duration_unit::kHours |
             duration_unit::kDays | duration_unit::kWeeks,
    .bare_seconds = true,
};

std::string formatLocation(const SourceLocation& where) {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  return out;
}

std::string joinKey(const std::string& parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return parent + "." + std::string(child);
}

std::string indexKey(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// ---- HTTP settings -----------------------------------------------------------------------------
// Check and webhook settings end up in an HTTP request line or header. A CR or LF there would end
// the line early and start another (a header the operator never wrote, or a request that fails
// every probe after passing `check`), so they are refused when the config is loaded.

// A character as it may be shown in a message: never raw, as a control character in a message
// would itself break the log line it is written to.
std::string describeChar(unsigned char c) {
  switch (c) {
    case '\r':
      return "a CR (carriage return)";
    case '\n':
      return "an LF (line feed)";
    case '\t':
      return "a tab";
    case '\0':
      return "a NUL";
    case ' ':
      return "a space";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "control character 0x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
    return out;
  }
  return std::string("'") + static_cast<char>(c) + "'";
}

// `text` with control characters escaped (\r, \n, \t, \xNN), for quoting in messages.
std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool isControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// RFC 9110 §5.6.2: a header name is a token.
bool isTokenChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// The first character of `text` that `allowed` refuses, if any.
template <typename Allowed>
std::optional<unsigned char> firstRefused(std::string_view text, Allowed allowed) {
  for (unsigned char c : text) {
    if (!allowed(c)) return c;
  }
  return std::nullopt;
}

// An IPv6 address needs brackets to be told apart from its port: "::1:5353" is both port 5353 of
// ::1 and the address ::1:5353 (port 53), and used to bind the second when the first was meant.
// `text` has two colons or more and no brackets; says how to write what it could mean.
std::string bracketsNeeded(const std::string& text, uint16_t default_port) {
  unsigned char buf[16];
  std::vector<std::string> meanings;
  auto meaning = [](const std::string& written, const std::string& address,
                    const std::string& port) {
    std::string out = "'";
    out += written;
    out += "' (address ";
    out += address;
    out += ", port ";
    out += port;
    out += ')';
    return out;
  };
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    meanings.push_back(meaning("[" + text + "]", text, std::to_string(default_port)));
  }
  const size_t colon = text.rfind(':');
  const std::string head = text.substr(0, colon);
  const std::string tail = text.substr(colon + 1);
  auto port = parseUnsigned(tail);
  if (port && *port <= 65535 && !head.empty() && inet_pton(AF_INET6, head.c_str(), buf) == 1) {
    meanings.push_back(meaning(hostPort(head, tail), head, tail));
  }
  std::string out = "an IPv6 address must be in brackets";
  if (meanings.empty()) return out + ": '[address]:port'";
  out += ": write ";
  out += meanings[0];
  if (meanings.size() > 1) {
    out += ", or ";
    out += meanings[1];
  }
  return out;
}

}  // namespace

std::optional<ListenAddress> parseListenAddress(std::string_view text_view, uint16_t default_port,
                                                std::string* reason) {
  const std::string text(text_view);
  std::string host;
  std::optional<std::string> port_text;
  bool v6 = false;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) {
      *reason = "missing ']'";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *reason = "unexpected text after ']'";
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
    v6 = true;
  } else if (std::count(text.begin(), text.end(), ':') >= 2) {
    *reason = bracketsNeeded(text, default_port);
    return std::nullopt;
  } else if (size_t colon = text.find(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  } else {
    host = text;
  }

  unsigned char buf[16];
  char normalized[INET6_ADDRSTRLEN];
  if (v6) {
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) {
      *reason = "'" + printable(host) + "' is not a numeric IPv6 address";
      return std::nullopt;
    }
    inet_ntop(AF_INET6, buf, normalized, sizeof normalized);
  } else {
    if (inet_pton(AF_INET, host.c_str(), buf) != 1) {
      *reason = "'" + printable(host) + "' is not a numeric IPv4 address";
      return std::nullopt;
    }
    inet_ntop(AF_INET, buf, normalized, sizeof normalized);
  }
  ListenAddress out;
  out.address = normalized;
  out.port = default_port;
  if (port_text) {
    auto port = parseUnsigned(*port_text);
    if (!port || *port > 65535) {
      *reason = "invalid port '" + printable(*port_text) + "' (expected 0..65535)";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(*port);
  }
  return out;
}

namespace {

// ---- YAML aliases ------------------------------------------------------------------------------

// How many nodes the YAML aliases of one configuration (all its files together) may stand for.
// yaml-cpp shares an aliased node instead of copying it, so parsing stays cheap, but the loader
// walks every alias as if it were written out: nine levels of ten aliases ("billion laughs") turn
// a page of YAML into 10^9 nodes, and a 35 KB file took 10 s and 1.4 GB. At the limit, the worst
// case (each node an address in a `values` list: one record each) loads in about a second; a
// shared record list of ten records can still be used by 2,500 zones.
constexpr uint64_t kMaxAliasNodes = 250000;

// Counts, in one pass over the parser's events and without building anything, how many nodes
// each alias stands for: the size of the anchored node with the aliases inside it expanded.
// Finds the alias that takes the total past the budget. Only the first document is looked at,
// as YAML::Load reads only the first.
class AliasCounter : public YAML::EventHandler {
 public:
  explicit AliasCounter(uint64_t budget) : budget_(budget) {}

  uint64_t used() const { return used_; }
  // The alias that went over the budget, and its name.
  const std::optional<YAML::Mark>& over() const { return over_; }
  const std::string& overName() const { return over_name_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    uint64_t size = anchor < sizes_.size() ? sizes_[anchor] : 1;
    used_ = saturatingAdd(used_, size);
    if (used_ > budget_ && !over_) {
      over_ = mark;
      if (anchor < names_.size()) over_name_ = names_[anchor];
    }
    add(size);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }

 private:
  struct Open {
    uint64_t size;
    YAML::anchor_t anchor;
  };
  static uint64_t saturatingAdd(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
  }
  void add(uint64_t size) {
    if (!open_.empty()) open_.back().size = saturatingAdd(open_.back().size, size);
  }
  void remember(YAML::anchor_t anchor, uint64_t size) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) {
      sizes_.resize(anchor + 1, 1);
      names_.resize(anchor + 1);
    }
    sizes_[anchor] = size;
    names_[anchor] = std::move(pending_name_);
    pending_name_.clear();
  }
  void leaf(YAML::anchor_t anchor) {
    remember(anchor, 1);
    add(1);
  }
  void open(YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) remember(anchor, 1);  // the name, before the children's
    open_.push_back(Open{1, anchor});
  }
  void close() {
    if (open_.empty()) return;
    Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    add(done.size);
  }

  uint64_t budget_;
  uint64_t used_ = 0;
  std::vector<Open> open_;
  std::vector<uint64_t> sizes_;     // by anchor id: the nodes an alias of it stands for
  std::vector<std::string> names_;  // by anchor id
  std::string pending_name_;
  std::optional<YAML::Mark> over_;
  std::string over_name_;
};

// ---- the loader --------------------------------------------------------------------------------

// The values of a YAML map by key, after the keys were checked against the allowed set.
class Fields {
 public:
  // The value, unless the key is absent or was given without a value.
  std::optional<YAML::Node> get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  // Whether the key was written at all, even if its value was unusable.
  bool given(std::string_view key) const { return given_.count(key) != 0; }
  void set(std::string key, YAML::Node value) { values_.emplace(std::move(key), value); }
  void markGiven(std::string key) { given_.insert(std::move(key)); }

 private:
  std::map<std::string, YAML::Node, std::less<>> values_;
  std::set<std::string, std::less<>> given_;
};

class Loader {
 public:
  Loader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config load(std::string_view yaml) {
    Config config;
    config.path = file_;
    YAML::Node root;
    try {
      std::string text(yaml);
      if (!withinAliasBudget(text)) throw ConfigError(std::move(errors_));
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw ConfigError(Diagnostic{at(e.mark), "", e.msg});
    }
    try {
      docs_.push_back(Document{file_, base_dir_, root, canonical(file_), {}});
      std::vector<std::string> stack = {docs_.front().canonical};
      collectIncludes(0, stack);
      loadDocuments(config);
    } catch (const YAML::Exception& e) {
      // Should not happen (we never convert with as<>), but a bug must not escape as a crash.
      error(at(e.mark), "", e.msg);
    }
    if (config.server.listen.empty() && !listen_given_) {
      config.server.listen = {ListenAddress{"127.0.0.1", kDefaultDnsPort, {}},
                              ListenAddress{"::1", kDefaultDnsPort, {}}};
    }
    if (error_count_ > errors_.size()) {
      errors_.push_back(
          Diagnostic{SourceLocation{file_, 0, 0}, "",
                     std::to_string(error_count_ - errors_.size()) + " more errors not shown"});
    }
    if (!errors_.empty()) throw ConfigError(std::move(errors_));
    return config;
  }

  // `understudy ctl`: control.listen and control.token_file of this one document, by the rules
  // loadControl() applies to them, and nothing else (see loadControlEndpoint in config.h).
  ControlEndpoint controlEndpoint(std::string_view yaml) {
    ControlEndpoint out;
    out.listen.address = "127.0.0.1";
    out.listen.port = kDefaultControlPort;
    YAML::Node root;
    try {
      std::string text(yaml);
      if (!withinAliasBudget(text)) throw ConfigError(std::move(errors_));
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw ConfigError(Diagnostic{at(e.mark), "", e.msg});
    }
    // An empty file, a top level that is not a map, or a `control:` that is not a map: the
    // endpoint is off, as the daemon would have it.
    if (!root.IsMap()) return out;
    const YAML::Node control = static_cast<const YAML::Node&>(root)["control"];
    if (!control || !control.IsMap()) return out;
    out.configured = true;
    if (const YAML::Node listen = control["listen"]) {
      if (auto text = scalar(listen, "control.listen")) {
        std::string reason;
        if (auto address = parseListenAddress(*text, kDefaultControlPort, &reason)) {
          out.listen = *address;
        } else {
          // The reason alone: ctl names the file and the key in front of it.
          error(listen, "control.listen", reason);
        }
      }
    }
    if (const YAML::Node token = control["token_file"]) {
      if (auto text = scalar(token, "control.token_file")) {
        std::filesystem::path path(*text);
        if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
        out.token_file = path.string();
      }
    }
    if (!errors_.empty()) throw ConfigError(std::move(errors_));
    return out;
  }

 private:
  SourceLocation at(const YAML::Mark& mark) const {
    if (mark.is_null()) return SourceLocation{file_, 0, 0};
    return SourceLocation{file_, mark.line + 1, mark.column + 1};
  }
  SourceLocation at(const YAML::Node& node) const { return at(node.Mark()); }

  // Every error is counted; the first kMaxReportedDiagnostics are kept. A mistake repeated a
  // million times (a record list shared by aliases, a generated file) is then one page, not a
  // million lines and the memory to hold them.
  void error(SourceLocation where, std::string key, std::string message) {
    ++error_count_;
    if (errors_.size() >= kMaxReportedDiagnostics) return;
    errors_.push_back(Diagnostic{std::move(where), std::move(key), std::move(message)});
  }

  // False, with the error at the alias that went over, when the aliases of `text` and of the
  // files read before it stand for more than kMaxAliasNodes nodes. Parse errors are left to
  // YAML::Load, which reports the same ones.
  bool withinAliasBudget(const std::string& text) {
    // Without an anchor (&) there is nothing an alias (*) could name.
    if (text.find('&') == std::string::npos || text.find('*') == std::string::npos) return true;
    AliasCounter counter(kMaxAliasNodes - alias_nodes_);
    try {
      std::istringstream in(text);
      YAML::Parser parser(in);
      parser.HandleNextDocument(counter);
    } catch (const YAML::Exception&) {
      return true;
    }
    if (counter.over()) {
      std::string alias =
          counter.overName().empty() ? "an alias" : "alias '*" + counter.overName() + "'";
      error(at(*counter.over()), "",
            "YAML aliases stand for more than " + std::to_string(kMaxAliasNodes) + " nodes (" +
                alias + " goes over the limit): write the data out, or share less of it");
      return false;
    }
    alias_nodes_ += counter.used();
    return true;
  }
  void error(const YAML::Node& node, std::string key, std::string message) {
    error(at(node), std::move(key), std::move(message));
  }

  bool expectMap(const YAML::Node& node, const std::string& key) {
    if (node.IsMap()) return true;
    error(node, key, "expected a map");
    return false;
  }
  bool expectList(const YAML::Node& node, const std::string& key) {
    if (node.IsSequence()) return true;
    error(node, key, "expected a list");
    return false;
  }
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& key) {
    if (node.IsScalar()) return node.Scalar();
    error(node, key, "expected a string");
    return std::nullopt;
  }

  // Reports unknown and repeated keys (yaml-cpp keeps both copies of a repeated key, and silently
  // using one of them hides a typo) at the key's own location.
  Fields fields(const YAML::Node& map, const std::string& key,
                std::initializer_list<std::string_view> allowed) {
    // Sections that may be written empty ("records:" with nothing under it) mean "none".
    static constexpr std::string_view kMayBeEmpty[] = {"server", "log",    "zones", "records",
                                                       "soa",    "checks", "pools", "headers"};
    Fields out;
    for (const auto& entry : map) {
      const YAML::Node& name_node = entry.first;
      if (!name_node.IsScalar()) {
        error(name_node, key, "expected a string key");
        continue;
      }
      const std::string& name = name_node.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        error(name_node, key, "unknown key '" + name + "'");
        continue;
      }
      if (out.given(name)) {
        error(name_node, key, "duplicate key '" + name + "'");
        continue;
      }
      out.markGiven(name);
      if (entry.second.IsNull()) {
        // yaml-cpp gives an empty value the mark of whatever follows it; the key's own
        // location is where the operator has to look.
        if (std::find(std::begin(kMayBeEmpty), std::end(kMayBeEmpty), name) ==
            std::end(kMayBeEmpty)) {
          error(name_node, joinKey(key, name), "missing value");
        }
        continue;
      }
      out.set(name, entry.second);
    }
    return out;
  }

  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& key, uint64_t min,
                                  uint64_t max) {
    if (!node.IsScalar()) {
      error(node, key, "expected an integer");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    if (!looksLikeInteger(text)) {
      error(node, key, "expected an integer, got '" + text + "'");
      return std::nullopt;
    }
    auto value = parseUnsigned(text);  // nullopt when negative or too long: out of range
    if (!value || *value < min || *value > max) {
      error(node, key,
            "value " + text + " out of range (" + std::to_string(min) + ".." + std::to_string(max) +
                ")");
      return std::nullopt;
    }
    return value;
  }

  // RFC 1035 TTLs: seconds, or BIND-style units ("5m", "1h30m", "1d").
  std::optional<uint32_t> ttl(const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar()) {
      error(node, key, "expected a TTL");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const DurationParse parsed = parseDuration(text, kTtlSyntax);
    if (!parsed && !looksLikeInteger(text)) {
      error(node, key, "invalid TTL '" + text + "' (expected seconds or e.g. 300, 5m, 1h, 1d)");
      return std::nullopt;
    }
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(parsed.value).count();
    if (!parsed || static_cast<uint64_t>(seconds) > kMaxTtl) {
      error(node, key, "TTL " + text + " out of range (0.." + std::to_string(kMaxTtl) + ")");
      return std::nullopt;
    }
    return static_cast<uint32_t>(seconds);
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, const std::string& key,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max) {
    if (!node.IsScalar()) {
      error(node, key, "expected a duration");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const DurationParse parsed = parseDuration(text, kDurationSyntax);
    if (!parsed) {
      error(node, key, "invalid duration '" + text + "' (expected e.g. 500ms, 10s, 2m, 1h)");
      return std::nullopt;
    }
    if (parsed.value < min || parsed.value > max) {
      error(node, key,
            "duration " + text + " out of range (" + durationText(min) + ".." + durationText(max) +
                ")");
      return std::nullopt;
    }
    return parsed.value;
  }

  // ---- the main file and its includes -----------------------------------------------------------

  struct Document {
    std::string file;
    std::string base_dir;
    YAML::Node root;
    std::string canonical;  // for loop and repeat detection
    Fields top;
  };

  static std::string canonical(const std::string& path) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
  }

  // Diagnostics and relative paths refer to the document being read.
  void switchTo(const Document& doc) {
    file_ = doc.file;
    base_dir_ = doc.base_dir;
  }

  // `include: file.yaml` or a list of files (relative to the including file, `*` globs allowed):
  // their checks, pools and zones join the main file's, as if written there.
  void collectIncludes(size_t index, std::vector<std::string>& stack) {
    switchTo(docs_[index]);
    const YAML::Node root = docs_[index].root;
    if (!root.IsMap()) return;
    YAML::Node list;
    for (const auto& entry : root) {
      if (entry.first.IsScalar() && entry.first.Scalar() == "include") list = entry.second;
    }
    if (!list || list.IsNull()) return;
    std::vector<YAML::Node> items;
    if (list.IsSequence()) {
      for (size_t i = 0; i < list.size(); ++i) items.push_back(list[i]);
    } else {
      items.push_back(list);
    }
    for (size_t i = 0; i < items.size(); ++i) {
      switchTo(docs_[index]);
      const std::string key = list.IsSequence() ? indexKey("include", i) : std::string("include");
      auto text = scalar(items[i], key);
      if (!text) continue;
      std::filesystem::path pattern(*text);
      if (pattern.is_relative()) pattern = std::filesystem::path(base_dir_) / pattern;
      std::vector<std::string> paths;
      if (text->find_first_of("*?[") != std::string::npos) {
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
          for (size_t k = 0; k < g.gl_pathc; ++k) paths.emplace_back(g.gl_pathv[k]);
        }
        globfree(&g);  // no match is fine: an empty conf.d
      } else {
        paths.push_back(pattern.string());
      }
      for (const std::string& path : paths) {
        switchTo(docs_[index]);
        std::string canon = canonical(path);
        if (std::find(stack.begin(), stack.end(), canon) != stack.end()) {
          std::string chain;
          for (const auto& s : stack) chain += s + " -> ";
          error(items[i], key, "include loop: " + chain + canon);
          continue;
        }
        auto seen = std::find_if(docs_.begin(), docs_.end(),
                                 [&](const Document& d) { return d.canonical == canon; });
        if (seen != docs_.end()) {
          error(items[i], key, "'" + path + "' is included twice");
          continue;
        }
        std::string problem;
        auto text_read = readBoundedFile(path, file_kind::kInclude, &problem);
        if (!text_read) {
          error(items[i], key, problem);
          continue;
        }
        Document doc{
            path, std::filesystem::path(path).parent_path().string(), YAML::Node(), canon, {}};
        if (doc.base_dir.empty()) doc.base_dir = ".";
        try {
          switchTo(doc);
          if (!withinAliasBudget(*text_read)) continue;
          doc.root = YAML::Load(*text_read);
        } catch (const YAML::Exception& e) {
          switchTo(doc);
          error(at(e.mark), "", e.msg);
          continue;
        }
        docs_.push_back(std::move(doc));
        stack.push_back(canon);
        collectIncludes(docs_.size() - 1, stack);
        stack.pop_back();
      }
    }
  }

  void loadDocuments(Config& config) {
    config_ = &config;
    std::vector<bool> usable(docs_.size(), false);
    for (size_t i = 0; i < docs_.size(); ++i) {
      Document& doc = docs_[i];
      switchTo(doc);
      if (!doc.root.IsDefined() || doc.root.IsNull()) continue;  // an empty file is valid
      if (!doc.root.IsMap()) {
        error(doc.root, "", "expected a map at the top level");
        continue;
      }
      if (i == 0) {
        doc.top =
            fields(doc.root, "",
                   {"include", "server", "log", "control", "notify", "checks", "pools", "zones"});
      } else {
        // Settings of the process itself live in one place: the main file.
        doc.top = fields(doc.root, "", {"include", "checks", "pools", "zones"});
      }
      usable[i] = true;
    }
    if (usable[0]) {
      switchTo(docs_[0]);
      if (auto server = docs_[0].top.get("server")) loadServer(*server, config.server);
      if (auto log = docs_[0].top.get("log")) loadLog(*log, config.log);
      if (auto control = docs_[0].top.get("control")) {
        loadControl(*control, config.control, config.warnings);
      }
      if (auto notify = docs_[0].top.get("notify")) loadNotify(*notify, config.notify);
    }
    // Checks before pools before zones, across all files: each refers to the one before by name.
    for (size_t i = 0; i < docs_.size(); ++i) {
      if (!usable[i]) continue;
      switchTo(docs_[i]);
      if (auto checks = docs_[i].top.get("checks")) loadChecks(*checks, config.checks);
    }
    for (size_t i = 0; i < docs_.size(); ++i) {
      if (!usable[i]) continue;
      switchTo(docs_[i]);
      if (auto pools = docs_[i].top.get("pools")) loadPools(*pools, config.pools);
    }
    for (size_t i = 0; i < docs_.size(); ++i) {
      if (!usable[i]) continue;
      switchTo(docs_[i]);
      if (auto zones = docs_[i].top.get("zones")) loadZones(*zones, config.zones);
    }
    switchTo(docs_[0]);
    config_ = nullptr;
  }

  void loadServer(const YAML::Node& node, ServerConfig& server) {
    const std::string key = "server";
    if (!expectMap(node, key)) return;
    Fields f = fields(node, key,
                      {"listen", "threads", "tcp_idle_timeout", "tcp_max_connections",
                       "edns_udp_size", "rrl", "nsid", "version", "reload_timeout"});
    if (auto rrl = f.get("rrl")) loadRrl(*rrl, server.rrl);
    if (auto listen = f.get("listen")) loadListen(*listen, server.listen);
    if (auto threads = f.get("threads")) {
      if (threads->IsScalar() && threads->Scalar() == "auto") {
        server.threads = 0;
      } else if (threads->IsScalar() && !looksLikeInteger(threads->Scalar())) {
        error(*threads, "server.threads",
              "expected a positive integer or 'auto', got '" + threads->Scalar() + "'");
      } else if (auto value = integer(*threads, "server.threads", 1, kMaxThreads)) {
        server.threads = static_cast<unsigned>(*value);
      }
    }
    if (auto timeout = f.get("tcp_idle_timeout")) {
      if (auto value = duration(*timeout, "server.tcp_idle_timeout", kMinTcpIdle, kMaxTcpIdle)) {
        server.tcp_idle_timeout = *value;
      }
    }
    if (auto max = f.get("tcp_max_connections")) {
      if (auto value = integer(*max, "server.tcp_max_connections", 1, 1000000)) {
        server.tcp_max_connections = static_cast<unsigned>(*value);
      }
    }
    if (auto timeout = f.get("reload_timeout")) {
      if (auto value = duration(*timeout, "server.reload_timeout", std::chrono::milliseconds(10),
                                std::chrono::milliseconds(3600 * 1000))) {
        server.reload_timeout = *value;
      }
    }
    // RFC 6891 §6.2.5: below 512 is not allowed; above 4096 invites fragmentation.
    if (auto size = f.get("edns_udp_size")) {
      if (auto value = integer(*size, "server.edns_udp_size", 512, 4096)) {
        server.edns_udp_size = static_cast<uint16_t>(*value);
      }
    }
    if (auto nsid = f.get("nsid")) server.nsid = identity(*nsid, "server.nsid", true);
    if (auto version = f.get("version"))
      server.version = identity(*version, "server.version", false);
  }

  // `server.nsid` / `server.version`: a short text sent as is (NSID option, CHAOS TXT); for the
  // NSID the word `hostname` stands for this machine's host name, read once here. Empty: off.
  std::string identity(const YAML::Node& node, const std::string& key, bool hostname_allowed) {
    auto text = scalar(node, key);
    if (!text) return {};
    const bool from_host = hostname_allowed && *text == "hostname";
    if (from_host) {
      char name[256] = {};
      if (gethostname(name, sizeof name - 1) != 0) {
        error(node, key, std::string("cannot read the host name: ") + std::strerror(errno));
        return {};
      }
      text = name;
    }
    if (text->size() > kMaxIdentityLength) {
      // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
      std::string why = "too long: ";
      why += std::to_string(text->size());
      why += " octets (at most ";
      why += std::to_string(kMaxIdentityLength);
      why += ")";
      if (from_host) {
        why += ": the host name '";
        why += *text;
        why += "'; write the identity out instead";
      }
      error(node, key, why);
      return {};
    }
    return *text;
  }

  void loadListen(const YAML::Node& node, std::vector<ListenAddress>& listen) {
    const std::string key = "server.listen";
    listen_given_ = true;
    if (!expectList(node, key)) return;
    if (node.size() == 0) {
      error(node, key, "expected at least one listen address");
      return;
    }
    std::map<std::string, SourceLocation> seen;
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string item_key = indexKey(key, i);
      auto text = scalar(item, item_key);
      if (!text) continue;
      std::string reason;
      auto address = parseListenAddress(*text, kDefaultDnsPort, &reason);
      if (!address) {
        error(item, item_key, "invalid listen address '" + printable(*text) + "': " + reason);
        continue;
      }
      address->where = at(item);
      auto [it, inserted] = seen.emplace(address->str(), address->where);
      if (!inserted) {
        error(item, item_key,
              "duplicate listen address '" + address->str() + "' (first given at " +
                  formatLocation(it->second) + ")");
        continue;
      }
      listen.push_back(std::move(*address));
    }
  }

  void loadLog(const YAML::Node& node, LogConfig& log) {
    if (!expectMap(node, "log")) return;
    Fields f = fields(node, "log", {"level", "format"});
    if (auto format = f.get("format")) {
      auto text = scalar(*format, "log.format");
      if (text && (*text == "text" || *text == "json")) {
        log.format = *text;
      } else if (text) {
        error(*format, "log.format", "invalid log format '" + *text + "' (expected text or json)");
      }
    }
    if (auto level = f.get("level")) {
      static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                    "error", "critical", "off"};
      auto text = scalar(*level, "log.level");
      if (!text) return;
      if (!kLevels.count(*text)) {
        error(*level, "log.level",
              "invalid log level '" + *text +
                  "' (expected trace, debug, info, warn, error, critical or off)");
        return;
      }
      log.level = *text;
    }
  }

  // server.rrl: { responses_per_second: 20, slip: 2, ipv4_prefix: 24, ipv6_prefix: 56,
  //               exempt: [10.0.0.0/8] }
  void loadRrl(const YAML::Node& node, RrlSettings& rrl) {
    const std::string key = "server.rrl";
    if (!expectMap(node, key)) return;
    Fields f =
        fields(node, key, {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix", "exempt"});
    rrl.enabled = true;
    if (auto v = f.get("responses_per_second")) {
      if (auto n = integer(*v, joinKey(key, "responses_per_second"), 1, 1000000)) {
        rrl.responses_per_second = static_cast<uint32_t>(*n);
      }
    }
    if (auto v = f.get("slip")) {
      if (auto n = integer(*v, joinKey(key, "slip"), 0, 10)) rrl.slip = static_cast<uint32_t>(*n);
    }
    if (auto v = f.get("ipv4_prefix")) {
      if (auto n = integer(*v, joinKey(key, "ipv4_prefix"), 8, 32)) {
        rrl.ipv4_prefix = static_cast<unsigned>(*n);
      }
    }
    if (auto v = f.get("ipv6_prefix")) {
      if (auto n = integer(*v, joinKey(key, "ipv6_prefix"), 16, 64)) {
        rrl.ipv6_prefix = static_cast<unsigned>(*n);
      }
    }
    if (auto list = f.get("exempt")) {
      const std::string ekey = joinKey(key, "exempt");
      if (expectList(*list, ekey)) {
        for (size_t i = 0; i < list->size(); ++i) {
          auto text = scalar((*list)[i], indexKey(ekey, i));
          if (!text) continue;
          if (!validPrefix(*text)) {
            error((*list)[i], indexKey(ekey, i),
                  "not a valid address or prefix '" + *text + "' (e.g. 10.0.0.0/8, 2001:db8::/32)");
            continue;
          }
          rrl.exempt.push_back(*text);
        }
      }
    }
  }

  static bool validPrefix(const std::string& text) {
    size_t slash = text.find('/');
    std::string address = text.substr(0, slash);
    unsigned char buf[16];
    int max = 0;
    if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
      max = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
      max = 128;
    } else {
      return false;
    }
    if (slash == std::string::npos) return true;
    auto len = parseUnsigned(text.substr(slash + 1));
    return len && *len <= static_cast<uint64_t>(max);
  }

  // `headers: {Name: value, ...}` for probes and webhooks.
  void loadHeaders(const YAML::Node& node, const std::string& key,
                   std::vector<std::pair<std::string, std::string>>& out) {
    if (!expectMap(node, key)) return;
    for (const auto& h : node) {
      auto name = scalar(h.first, key);
      const std::string value_key = name ? joinKey(key, printable(*name)) : key;
      auto value = scalar(h.second, value_key);
      if (!name || !value) continue;
      if (name->empty()) {
        error(h.first, key, "empty header name");
        continue;
      }
      if (auto c = firstRefused(*name, isTokenChar)) {
        error(h.first, key,
              "invalid header name '" + printable(*name) + "': it contains " + describeChar(*c) +
                  " (a name is letters, digits and !#$%&'*+-.^_`|~)");
        continue;
      }
      // RFC 9110 §5.5: a field value is visible characters, spaces and tabs.
      if (auto c =
              firstRefused(*value, [](unsigned char c) { return c == '\t' || !isControl(c); })) {
        error(h.second, value_key,
              "header value contains " + describeChar(*c) +
                  ": line breaks and control characters would end the header line");
        continue;
      }
      out.emplace_back(*name, *value);
    }
  }

  // A check's `host`: the Host header, the TLS name and the URL's host, so a name or a numeric
  // address and nothing else. "app.example.com/x" or "user@app" would probe another URL.
  bool validHost(const YAML::Node& node, const std::string& key, const std::string& host) {
    if (host.empty()) {
      error(node, key, "empty host");
      return false;
    }
    // '%' only as an IPv6 zone id ("fe80::1%eth0").
    const bool v6 = host.find(':') != std::string::npos;
    auto c = firstRefused(host, [v6](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80 || c == ':' ||
             (v6 && c == '%');
    });
    if (c) {
      error(node, key,
            "host '" + printable(host) + "' contains " + describeChar(*c) +
                ": give the host name only (the port goes in 'port', the path in 'path')");
      return false;
    }
    if (v6) {
      // Only an IPv6 address has colons (a port goes in `port`); it may carry a zone id.
      std::string address = host.substr(0, host.find('%'));
      unsigned char buf[16];
      if (inet_pton(AF_INET6, address.c_str(), buf) != 1) {
        error(node, key,
              "host '" + printable(host) +
                  "' contains ':' but is not an IPv6 address: give the host name only (the port "
                  "goes in 'port')");
        return false;
      }
    }
    return true;
  }

  // control: { listen: "127.0.0.1:8053", token_file: /etc/understudy/control.token,
  //            max_connections_per_client: 8, hostnames: [ns1.mgmt.example.net] }
  void loadControl(const YAML::Node& node, ControlConfig& control,
                   std::vector<Diagnostic>& warnings) {
    if (!expectMap(node, "control")) return;
    Fields f =
        fields(node, "control",
               {"listen", "token_file", "create_token", "max_connections_per_client", "hostnames"});
    control.enabled = true;
    control.where = at(node);
    if (auto listen = f.get("listen")) {
      if (auto text = scalar(*listen, "control.listen")) {
        std::string reason;
        auto address = parseListenAddress(*text, kDefaultControlPort, &reason);
        if (!address) {
          error(*listen, "control.listen",
                "invalid listen address '" + printable(*text) + "': " + reason);
        } else {
          control.address = address->address;
          control.port = address->port;
        }
      }
    }
    if (auto create = f.get("create_token")) {
      if (auto value = boolean(*create, "control.create_token")) control.create_token = *value;
      if (control.create_token && !f.given("token_file")) {
        error(*create, "control.create_token", "needs token_file: the file to create");
      }
    }
    if (auto token = f.get("token_file")) {
      if (auto text = scalar(*token, "control.token_file")) {
        std::filesystem::path path(*text);
        if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
        // The same rule, and the same mode check, as the daemon's: what `check` accepts starts.
        // A file that create_token will make at start is not there yet; its directory must be.
        std::string problem;
        std::error_code ec;
        const bool to_create =
            control.create_token && std::filesystem::symlink_status(path, ec).type() ==
                                        std::filesystem::file_type::not_found;
        if (to_create) {
          if (!std::filesystem::is_directory(path.parent_path(), ec)) {
            error(*token, "control.token_file",
                  "cannot create token file '" + path.string() + "': no directory '" +
                      path.parent_path().string() + "'");
          } else {
            control.token_file = path.string();
          }
        } else if (readTokenFile(path.string(), &problem)) {
          control.token_file = path.string();
        } else {
          error(*token, "control.token_file", problem);
        }
      }
    }
    if (auto max = f.get("max_connections_per_client")) {
      // At most the endpoint's global cap of 64 connections (control::ServerLimits).
      if (auto n = integer(*max, "control.max_connections_per_client", 1, 64)) {
        control.max_connections_per_client = static_cast<unsigned>(*n);
      }
    }
    if (auto names = f.get("hostnames")) {
      if (expectList(*names, "control.hostnames")) {
        for (size_t i = 0; i < names->size(); ++i) {
          const std::string key = indexKey("control.hostnames", i);
          auto text = scalar((*names)[i], key);
          if (!text) continue;
          std::string reason;
          auto name = normalizeHostName(*text, &reason);
          if (!name) {
            error((*names)[i], key, "invalid host name '" + printable(*text) + "': " + reason);
          } else {
            control.hostnames.push_back(std::move(*name));
          }
        }
      }
    }
    if (!isLoopbackAddress(control.address) && !f.given("token_file")) {
      std::string where = ListenAddress{control.address, control.port, {}}.str();
      warnings.emplace_back(at(f.get("listen") ? *f.get("listen") : node), "control.listen",
                            "the control endpoint listens on " + where +
                                ", beyond loopback, without a token_file: every host that can "
                                "reach it reads /metrics, /status and /explain; keep it on "
                                "loopback, or set token_file and let only trusted hosts connect");
    }
  }

  // notify: [ { url: https://..., format: generic|pagerduty, headers: {..}, routing_key: .. } ]
  void loadNotify(const YAML::Node& node, std::vector<WebhookConfig>& hooks) {
    if (!expectList(node, "notify")) return;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string key = indexKey("notify", i);
      const YAML::Node& n = node[i];
      if (!expectMap(n, key)) continue;
      Fields f = fields(n, key, {"url", "format", "headers", "routing_key", "timeout", "retries"});
      WebhookConfig hook;
      hook.where = at(n);
      hook.key = key;
      bool ok = true;
      if (auto url = f.get("url")) {
        auto text = scalar(*url, joinKey(key, "url"));
        auto refused =
            text ? firstRefused(*text, [](unsigned char c) { return !isControl(c) && c != ' '; })
                 : std::nullopt;
        if (text && !(text->rfind("http://", 0) == 0 || text->rfind("https://", 0) == 0)) {
          error(*url, joinKey(key, "url"), "webhook url must start with http:// or https://");
          ok = false;
        } else if (refused) {
          error(*url, joinKey(key, "url"),
                "webhook url contains " + describeChar(*refused) +
                    ": percent-encode it (a space is %20)");
          ok = false;
        } else if (text) {
          hook.url = *text;
        }
      } else {
        if (!f.given("url")) error(n, key, "missing required key 'url'");
        ok = false;
      }
      if (auto format = f.get("format")) {
        auto text = scalar(*format, joinKey(key, "format"));
        if (text && *text == "generic") {
          hook.format = WebhookConfig::Format::kGeneric;
        } else if (text && *text == "pagerduty") {
          hook.format = WebhookConfig::Format::kPagerDuty;
        } else if (text) {
          error(*format, joinKey(key, "format"),
                "unknown webhook format '" + *text + "' (expected generic or pagerduty)");
          ok = false;
        }
      }
      if (auto headers = f.get("headers"))
        loadHeaders(*headers, joinKey(key, "headers"), hook.headers);
      if (auto rk = f.get("routing_key")) {
        if (auto text = scalar(*rk, joinKey(key, "routing_key"))) hook.routing_key = *text;
      }
      if (hook.format == WebhookConfig::Format::kPagerDuty && hook.routing_key.empty()) {
        error(n, key, "a pagerduty webhook needs 'routing_key' (the Events v2 integration key)");
        ok = false;
      }
      if (auto timeout = f.get("timeout")) {
        if (auto d = duration(*timeout, joinKey(key, "timeout"), std::chrono::milliseconds(100),
                              std::chrono::milliseconds(60000))) {
          hook.timeout = *d;
        }
      }
      if (auto retries = f.get("retries")) {
        if (auto v = integer(*retries, joinKey(key, "retries"), 0, 20)) {
          hook.retries = static_cast<unsigned>(*v);
        }
      }
      if (ok) hooks.push_back(std::move(hook));
    }
  }

  void loadZones(const YAML::Node& node, std::vector<zone::ZoneSource>& zones) {
    if (!expectList(node, "zones")) return;
    for (size_t i = 0; i < node.size(); ++i) {
      auto zone = loadZone(node[i], i);
      if (!zone) continue;
      auto [it, inserted] = zones_seen_.emplace(zone->origin, zone->where);
      if (!inserted) {
        error(zone->where, zone->key,
              "duplicate zone '" + nameToText(zone->origin) + "' (first defined at " +
                  formatLocation(it->second) + ")");
        continue;
      }
      zones.push_back(std::move(*zone));
    }
  }

  // The parts of a zone entry that records need while they are parsed.
  struct ZoneContext {
    std::string key;           // "zones[0]"
    std::string origin;        // wire, case as written; relative names complete with it
    std::string origin_lower;  // for the outside-the-zone check
    bool origin_valid = false;
    uint32_t default_ttl = kDefaultZoneTtl;
  };

  std::optional<zone::ZoneSource> loadZone(const YAML::Node& node, size_t index) {
    ZoneContext ctx;
    ctx.key = indexKey("zones", index);
    if (!expectMap(node, ctx.key)) return std::nullopt;
    Fields f = fields(node, ctx.key, {"name", "default_ttl", "soa", "file", "records"});

    zone::ZoneSource zone;
    zone.key = ctx.key;
    zone.where = at(node);
    ctx.origin = kRootWire;
    if (auto name = f.get("name")) {
      const std::string key = joinKey(ctx.key, "name");
      if (auto text = scalar(*name, key)) {
        // Zone names are always absolute, with or without the trailing dot.
        std::string reason;
        std::optional<std::string> wire;
        if (*text == "@") {
          reason = "'@' has no meaning here";
        } else {
          wire = nameFromText(*text, kRootWire, &reason);
        }
        if (!wire) {
          error(*name, key, "invalid zone name '" + *text + "': " + reason);
        } else {
          ctx.origin = *wire;
          ctx.origin_lower = lowered(*wire);
          ctx.origin_valid = true;
        }
      }
    } else if (!f.given("name")) {
      error(node, ctx.key, "missing required key 'name'");
    }
    if (auto ttl_node = f.get("default_ttl")) {
      if (auto value = ttl(*ttl_node, joinKey(ctx.key, "default_ttl"))) ctx.default_ttl = *value;
    }

    std::vector<zone::Record> file_records;
    std::optional<SourceLocation> file_soa;
    if (auto file = f.get("file")) {
      const std::string key = joinKey(ctx.key, "file");
      if (auto text = scalar(*file, key)) {
        std::filesystem::path path(*text);
        if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
        if (ctx.origin_valid) {
          try {
            file_records = zone::importZoneFile(path.string(), ctx.origin, ctx.default_ttl);
          } catch (const ConfigError& e) {
            for (const Diagnostic& d : e.diagnostics()) {
              if (d.where.line == 0) {
                // Cannot open or read it: point at the file: key instead of nowhere (the message
                // names the path as resolved).
                error(*file, key, d.message);
              } else {
                error(d.where, key, d.message);
              }
            }
          }
          for (const zone::Record& r : file_records) {
            if (r.type == kTypeSoa) file_soa = r.where;
          }
        }
      }
    }

    std::optional<zone::Record> soa;
    if (auto soa_node = f.get("soa")) {
      if (file_soa) {
        error(*soa_node, joinKey(ctx.key, "soa"),
              "the zone file already has an SOA record (" + formatLocation(*file_soa) +
                  "); remove one of them");
      } else {
        soa = loadSoa(*soa_node, ctx, at(*soa_node), &zone.serial_auto);
      }
    } else if (!file_soa) {
      soa = loadSoa(std::nullopt, ctx, zone.where, &zone.serial_auto);
    }

    // A big zone file is most of the records: take its vector whole rather than copy it.
    if (zone.records.empty() && !soa) {
      zone.records = std::move(file_records);
    } else {
      zone.records.reserve(zone.records.size() + file_records.size() + 1);
      if (soa) zone.records.push_back(std::move(*soa));
      for (zone::Record& r : file_records) zone.records.push_back(std::move(r));
    }
    if (auto records = f.get("records")) {
      const std::string key = joinKey(ctx.key, "records");
      if (expectList(*records, key)) {
        for (size_t j = 0; j < records->size(); ++j) {
          loadRecord((*records)[j], indexKey(key, j), ctx, zone.records);
        }
      }
    }

    // A zone with other errors still takes part in the duplicate check; the load fails anyway.
    if (!ctx.origin_valid) return std::nullopt;
    zone.origin = ctx.origin_lower;
    return zone;
  }

  // RFC 1035 §3.3.13. Everything has a default, so a zone needs no soa: key at all.
  // `node` is absent when the zone has no soa: key and every default applies.
  std::optional<zone::Record> loadSoa(const std::optional<YAML::Node>& node, const ZoneContext& ctx,
                                      const SourceLocation& where, bool* serial_auto) {
    const std::string key = joinKey(ctx.key, "soa");
    Fields f;
    if (node) {
      if (!expectMap(*node, key)) return std::nullopt;
      f = fields(*node, key,
                 {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"});
    }
    bool ok = true;
    auto name = [&](std::string_view field, const char* fallback) {
      std::string text = fallback;
      std::optional<YAML::Node> value = f.get(field);
      if (value) {
        auto given = scalar(*value, joinKey(key, field));
        if (!given) {
          ok = false;
          return std::string();
        }
        text = *given;
      }
      std::string reason;
      auto wire = nameFromText(text, ctx.origin, &reason);
      if (!wire) {
        error(value ? at(*value) : where, joinKey(key, field),
              "invalid domain name '" + text + "': " + reason);
        ok = false;
        return std::string();
      }
      return *wire;
    };
    auto number = [&](std::string_view field, uint32_t fallback, bool is_serial) {
      std::optional<YAML::Node> value = f.get(field);
      if (!value) return fallback;
      std::optional<uint64_t> parsed;
      if (is_serial && value->IsScalar() && value->Scalar() == "auto") {
        // The serial follows every published change (reloads and health swaps), so secondaries
        // and monitoring see each one; it starts from the current Unix time.
        *serial_auto = true;
        return fallback;
      }
      if (is_serial) {
        parsed = integer(*value, joinKey(key, field), 0, 0xffffffff);  // RFC 1982 serial
      } else {
        parsed = ttl(*value, joinKey(key, field));
      }
      if (!parsed) ok = false;
      return parsed ? static_cast<uint32_t>(*parsed) : fallback;
    };

    std::string rdata = name("mname", "ns1");
    rdata += name("rname", "hostmaster");
    const uint32_t values[] = {number("serial", 1, true), number("refresh", 3600, false),
                               number("retry", 600, false), number("expire", 1209600, false),
                               number("minimum", 300, false)};
    for (uint32_t v : values) {
      rdata += static_cast<char>(v >> 24);
      rdata += static_cast<char>(v >> 16);
      rdata += static_cast<char>(v >> 8);
      rdata += static_cast<char>(v);
    }
    const uint32_t soa_ttl = number("ttl", ctx.default_ttl, false);
    if (!ok) return std::nullopt;
    zone::Record record;
    record.owner = ctx.origin;
    record.type = kTypeSoa;
    record.ttl = soa_ttl;
    record.rdata = std::move(rdata);
    record.where = where;
    record.key = key;
    return record;
  }

  void loadRecord(const YAML::Node& node, const std::string& key, const ZoneContext& ctx,
                  std::vector<zone::Record>& out) {
    if (!expectMap(node, key)) return;
    Fields f = fields(node, key,
                      {"name", "type", "ttl", "value", "values", "pool", "failover_ttl",
                       "when_all_down", "fallback"});

    std::optional<std::string> owner;
    if (auto name = f.get("name")) {
      const std::string name_key = joinKey(key, "name");
      if (auto text = scalar(*name, name_key)) {
        std::string reason;
        owner = nameFromText(*text, ctx.origin, &reason);
        if (!owner) {
          error(*name, name_key, "invalid domain name '" + *text + "': " + reason);
        } else if (ctx.origin_valid && !isSubdomain(lowered(*owner), ctx.origin_lower)) {
          error(*name, name_key,
                "record owner '" + nameToText(*owner) + "' is outside zone '" +
                    nameToText(ctx.origin_lower) + "'");
          owner.reset();
        }
      }
    } else if (!f.given("name")) {
      error(node, key, "missing required key 'name'");
    }

    uint16_t type = 0;  // 0 = not usable
    if (auto type_node = f.get("type")) {
      const std::string type_key = joinKey(key, "type");
      if (auto text = scalar(*type_node, type_key)) {
        auto parsed = zone::typeFromText(*text);
        if (!parsed) {
          error(*type_node, type_key, "unknown record type '" + *text + "'");
        } else if (*parsed == kTypeSoa) {
          error(*type_node, type_key, "use the zone's soa: key instead of an SOA record");
        } else if (*parsed == kTypeOpt || (*parsed >= 128 && *parsed <= 255)) {
          // RFC 6895 §3.1: OPT and the meta/query types never appear in zone data.
          error(*type_node, type_key, "type " + *text + " cannot appear in zone data");
        } else {
          type = *parsed;
        }
      }
    } else if (!f.given("type")) {
      error(node, key, "missing required key 'type'");
    }

    uint32_t record_ttl = ctx.default_ttl;
    bool ttl_ok = true;
    if (auto ttl_node = f.get("ttl")) {
      auto value = ttl(*ttl_node, joinKey(key, "ttl"));
      if (value) {
        record_ttl = *value;
      } else {
        ttl_ok = false;
      }
    }

    if (f.given("pool")) {
      loadPoolRecord(node, f, key, ctx, owner, type, record_ttl, ttl_ok && f.given("ttl"), out);
      return;
    }
    for (const char* pool_only : {"failover_ttl", "when_all_down", "fallback"}) {
      if (auto extra = f.get(pool_only)) {
        error(*extra, joinKey(key, pool_only),
              std::string("'") + pool_only + "' applies only to records with a 'pool'");
      }
    }

    // (value node, key path) for each RDATA.
    std::vector<std::pair<YAML::Node, std::string>> values;
    auto value = f.get("value");
    auto list = f.get("values");
    if (value && list) {
      error(node, key, "use either 'value' or 'values', not both");
      return;
    }
    if (!value && !list) {
      if (!f.given("value") && !f.given("values")) error(node, key, "missing 'value' or 'values'");
      return;
    }
    if (value) {
      values.emplace_back(*value, joinKey(key, "value"));
    } else {
      const std::string list_key = joinKey(key, "values");
      if (!expectList(*list, list_key)) return;
      if (list->size() == 0) {
        error(*list, list_key, "expected at least one value");
        return;
      }
      for (size_t i = 0; i < list->size(); ++i)
        values.emplace_back((*list)[i], indexKey(list_key, i));
    }

    for (const auto& [value_node, value_key] : values) {
      auto text = scalar(value_node, value_key);
      if (!text || type == 0) continue;
      std::string reason;
      auto rdata = zone::parseRdata(type, *text, ctx.origin, &reason);
      if (!rdata) {
        error(value_node, value_key, reason);
        continue;
      }
      if (!owner || !ttl_ok) continue;
      zone::Record record;
      record.owner = *owner;
      record.type = type;
      record.ttl = record_ttl;
      record.rdata = std::move(*rdata);
      record.where = at(value_node);
      record.key = key;
      out.push_back(std::move(record));
    }
  }

  // ---- health checks, pools and pooled records ------------------------------------------------

  std::optional<std::string> ipAddress(const YAML::Node& node, const std::string& key) {
    auto text = scalar(node, key);
    if (!text) return std::nullopt;
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, text->c_str(), buf) == 1) {
      inet_ntop(AF_INET, buf, out, sizeof out);
      return std::string(out);
    }
    if (inet_pton(AF_INET6, text->c_str(), buf) == 1) {
      inet_ntop(AF_INET6, buf, out, sizeof out);
      return std::string(out);
    }
    error(node, key, "not a valid IPv4 or IPv6 address '" + *text + "'");
    return std::nullopt;
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& key) {
    if (node.IsScalar()) {
      const std::string& t = node.Scalar();
      if (t == "true" || t == "yes" || t == "on") return true;
      if (t == "false" || t == "no" || t == "off") return false;
    }
    error(node, key, "expected true or false");
    return std::nullopt;
  }

  // "checks: { name: {type: http, ...}, ... }"
  void loadChecks(const YAML::Node& node, std::vector<health::CheckSpec>& checks) {
    if (!expectMap(node, "checks")) return;
    for (const auto& entry : node) {
      auto name = scalar(entry.first, "checks");
      if (!name) continue;
      const std::string key = joinKey("checks", *name);
      if (*name == "none") {
        error(entry.first, "checks", "'none' is reserved (it means: no health check)");
        continue;
      }
      if (std::any_of(checks.begin(), checks.end(),
                      [&](const health::CheckSpec& c) { return c.name == *name; })) {
        error(entry.first, "checks", "duplicate check '" + *name + "'");
        continue;
      }
      if (auto check = loadCheck(entry.second, key, *name)) checks.push_back(std::move(*check));
    }
  }

  std::optional<health::CheckSpec> loadCheck(const YAML::Node& node, const std::string& key,
                                             const std::string& name) {
    if (!expectMap(node, key)) return std::nullopt;
    Fields f =
        fields(node, key,
               {"type", "port", "path", "method", "host", "headers", "expect_status", "expect_body",
                "tls_verify", "ca_file", "interval", "timeout", "rise", "fall"});
    health::CheckSpec c;
    c.name = name;
    size_t errors_before = error_count_;
    if (auto type = f.get("type")) {
      auto text = scalar(*type, joinKey(key, "type"));
      if (text && *text == "http") {
        c.type = health::CheckType::kHttp;
      } else if (text && *text == "https") {
        c.type = health::CheckType::kHttps;
        c.port = 443;
      } else if (text && *text == "tcp") {
        c.type = health::CheckType::kTcp;
      } else if (text) {
        error(*type, joinKey(key, "type"),
              "unknown check type '" + *text + "' (expected http, https or tcp)");
      }
    } else {
      error(node, key, "missing required key 'type'");
    }
    const bool http = c.type != health::CheckType::kTcp;
    if (auto port = f.get("port")) {
      if (auto v = integer(*port, joinKey(key, "port"), 1, 65535))
        c.port = static_cast<uint16_t>(*v);
    } else if (!http && !f.given("port")) {
      error(node, key, "missing required key 'port' (a tcp check needs one)");
    }
    static constexpr const char* kHttpOnly[] = {"path",       "method",        "host",
                                                "headers",    "expect_status", "expect_body",
                                                "tls_verify", "ca_file"};
    for (const char* k : kHttpOnly) {
      if (!http && f.given(k)) {
        if (auto v = f.get(k)) {
          error(*v, joinKey(key, k),
                std::string("'") + k + "' applies to http and https checks only");
        }
      }
    }
    if (http) {
      if (auto path = f.get("path")) {
        auto text = scalar(*path, joinKey(key, "path"));
        // Spaces and control characters would break the request line; '#' starts a fragment,
        // which is never sent, so the probe would ask for another path than the one written.
        auto refused =
            text ? firstRefused(
                       *text, [](unsigned char c) { return !isControl(c) && c != ' ' && c != '#'; })
                 : std::nullopt;
        if (text && (text->empty() || (*text)[0] != '/')) {
          error(*path, joinKey(key, "path"),
                "path must start with '/': '" + printable(*text) + "'");
        } else if (refused) {
          error(*path, joinKey(key, "path"),
                "path '" + printable(*text) + "' contains " + describeChar(*refused) +
                    (*refused == '#' ? ": a fragment is never sent to the server"
                                     : ": percent-encode it (a space is %20)"));
        } else if (text) {
          c.path = *text;
        }
      }
      if (auto method = f.get("method")) {
        auto text = scalar(*method, joinKey(key, "method"));
        if (text && (*text == "GET" || *text == "HEAD")) {
          c.method = *text;
        } else if (text) {
          error(*method, joinKey(key, "method"), "method must be GET or HEAD, not '" + *text + "'");
        }
      }
      if (auto host = f.get("host")) {
        auto text = scalar(*host, joinKey(key, "host"));
        if (text && validHost(*host, joinKey(key, "host"), *text)) c.host = *text;
      }
      if (auto headers = f.get("headers"))
        loadHeaders(*headers, joinKey(key, "headers"), c.headers);
      if (auto expect = f.get("expect_status"))
        loadExpectStatus(*expect, joinKey(key, "expect_status"), c);
      if (auto body = f.get("expect_body")) {
        if (auto text = scalar(*body, joinKey(key, "expect_body"))) c.expect_body = *text;
      }
      if (auto verify = f.get("tls_verify")) {
        if (auto v = boolean(*verify, joinKey(key, "tls_verify"))) c.tls_verify = *v;
      }
      if (auto ca = f.get("ca_file")) {
        if (auto text = scalar(*ca, joinKey(key, "ca_file"))) {
          std::filesystem::path path(*text);
          if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
          // Read now, within the CA limit: a FIFO, a device or an oversized file fails the load
          // here, not in the TLS library, which reads this path for HTTPS probes on the health
          // thread. Once per file and load, however many checks share it.
          auto [checked, first] = ca_files_checked_.try_emplace(path.string());
          if (first) readBoundedFile(path.string(), file_kind::kCa, &checked->second);
          if (!checked->second.empty()) error(*ca, joinKey(key, "ca_file"), checked->second);
          c.ca_file = path.string();
        }
      }
    }
    if (c.method == "HEAD" && !c.expect_body.empty()) {
      error(*f.get("expect_body"), joinKey(key, "expect_body"),
            "expect_body needs method GET: a HEAD response has no body");
    }
    if (auto interval = f.get("interval")) {
      if (auto d = duration(*interval, joinKey(key, "interval"), std::chrono::milliseconds(100),
                            std::chrono::milliseconds(3600 * 1000))) {
        c.interval = *d;
      }
    }
    std::optional<YAML::Node> timeout_node = f.get("timeout");
    if (timeout_node) {
      if (auto d = duration(*timeout_node, joinKey(key, "timeout"), std::chrono::milliseconds(10),
                            std::chrono::milliseconds(3600 * 1000))) {
        c.timeout = *d;
      }
    }
    if (c.timeout >= c.interval) {
      // Otherwise probes of one target would overlap (DESIGN.md: a config error).
      error(timeout_node ? at(*timeout_node) : at(node), joinKey(key, "timeout"),
            "timeout " + durationText(c.timeout) + " must be shorter than interval " +
                durationText(c.interval));
    }
    if (auto rise = f.get("rise")) {
      if (auto v = integer(*rise, joinKey(key, "rise"), 1, 100)) c.rise = static_cast<unsigned>(*v);
    }
    if (auto fall = f.get("fall")) {
      if (auto v = integer(*fall, joinKey(key, "fall"), 1, 100)) c.fall = static_cast<unsigned>(*v);
    }
    if (error_count_ != errors_before) return std::nullopt;
    return c;
  }

  // `expect_status: 200`, `[200, 204]`, `"200-299"` or `[200-299, 301]`.
  void loadExpectStatus(const YAML::Node& node, const std::string& key, health::CheckSpec& c) {
    std::vector<health::StatusRange> ranges;
    auto one = [&](const YAML::Node& item, const std::string& item_key) {
      auto text = scalar(item, item_key);
      if (!text) return;
      size_t dash = text->find('-');
      auto low = parseUnsigned(text->substr(0, dash));
      auto high = dash == std::string::npos ? low : parseUnsigned(text->substr(dash + 1));
      if (!low || !high || *low < 100 || *high > 599 || *low > *high) {
        error(item, item_key,
              "invalid HTTP status '" + *text +
                  "' (expected a code 100..599 or a range like 200-299)");
        return;
      }
      ranges.push_back({static_cast<int>(*low), static_cast<int>(*high)});
    };
    if (node.IsSequence()) {
      if (node.size() == 0) error(node, key, "expected at least one status");
      for (size_t i = 0; i < node.size(); ++i) one(node[i], indexKey(key, i));
    } else {
      one(node, key);
    }
    if (!ranges.empty()) c.expect_status = std::move(ranges);
  }

  // "pools: { name: {policy: priority, check: web, endpoints: [...]}, ... }"
  void loadPools(const YAML::Node& node, std::vector<PoolConfig>& pools) {
    if (!expectMap(node, "pools")) return;
    for (const auto& entry : node) {
      auto name = scalar(entry.first, "pools");
      if (!name) continue;
      if (std::any_of(pools.begin(), pools.end(),
                      [&](const PoolConfig& p) { return p.name == *name; })) {
        error(entry.first, "pools", "duplicate pool '" + *name + "'");
        continue;
      }
      if (auto pool = loadPool(entry.second, joinKey("pools", *name), *name)) {
        pools.push_back(std::move(*pool));
      }
    }
  }

  std::optional<PoolConfig> loadPool(const YAML::Node& node, const std::string& key,
                                     const std::string& name) {
    if (!expectMap(node, key)) return std::nullopt;
    Fields f = fields(node, key, {"policy", "max_answers", "check", "endpoints"});
    PoolConfig pool;
    pool.name = name;
    pool.where = at(node);
    pool.key = key;
    size_t errors_before = error_count_;
    if (auto policy = f.get("policy")) {
      auto text = scalar(*policy, joinKey(key, "policy"));
      if (text && *text == "priority") {
        pool.policy = PoolPolicy::kPriority;
      } else if (text && *text == "all") {
        pool.policy = PoolPolicy::kAll;
      } else if (text) {
        error(*policy, joinKey(key, "policy"),
              "unknown policy '" + *text + "' (expected priority or all)");
      }
    }
    if (auto max = f.get("max_answers")) {
      if (auto v = integer(*max, joinKey(key, "max_answers"), 1, 64)) {
        pool.max_answers = static_cast<unsigned>(*v);
      }
    }
    std::string pool_check;
    std::optional<YAML::Node> pool_check_node = f.get("check");
    if (pool_check_node) {
      if (auto text = scalar(*pool_check_node, joinKey(key, "check"))) {
        if (knownCheck(*pool_check_node, joinKey(key, "check"), *text)) pool_check = *text;
        if (pool_check == "none") pool_check.clear();
      }
    }
    auto endpoints = f.get("endpoints");
    if (!endpoints) {
      error(node, key, "pool '" + name + "' has no endpoints");
      return std::nullopt;
    }
    const std::string ekey = joinKey(key, "endpoints");
    if (!expectList(*endpoints, ekey)) return std::nullopt;
    if (endpoints->size() == 0) error(*endpoints, ekey, "pool '" + name + "' has no endpoints");
    for (size_t i = 0; i < endpoints->size(); ++i) {
      const YAML::Node& e = (*endpoints)[i];
      const std::string k = indexKey(ekey, i);
      if (!expectMap(e, k)) continue;
      Fields ef = fields(e, k, {"address", "probe_address", "priority", "check"});
      EndpointConfig endpoint;
      endpoint.where = at(e);
      endpoint.key = k;
      auto address = ef.get("address");
      if (!address) {
        if (!ef.given("address")) error(e, k, "missing required key 'address'");
        continue;
      }
      auto parsed = ipAddress(*address, joinKey(k, "address"));
      if (!parsed) continue;
      endpoint.address = *parsed;
      endpoint.probe_address = *parsed;
      if (auto probe = ef.get("probe_address")) {
        if (auto p = ipAddress(*probe, joinKey(k, "probe_address"))) endpoint.probe_address = *p;
      }
      if (auto priority = ef.get("priority")) {
        if (auto v = integer(*priority, joinKey(k, "priority"), 1, 255)) {
          endpoint.priority = static_cast<unsigned>(*v);
        }
      }
      if (auto check = ef.get("check")) {
        if (auto text = scalar(*check, joinKey(k, "check"))) {
          if (knownCheck(*check, joinKey(k, "check"), *text)) {
            endpoint.check = *text == "none" ? std::string() : *text;
          }
        }
      } else if (!pool_check.empty()) {
        endpoint.check = pool_check;
      } else if (!pool_check_node) {
        error(e, k,
              "endpoint " + endpoint.address +
                  " has no health check (set 'check' on the pool or on the endpoint)");
      }
      for (const EndpointConfig& other : pool.endpoints) {
        if (other.address == endpoint.address) {
          error(*address, joinKey(k, "address"),
                "duplicate endpoint " + endpoint.address + " in pool '" + name + "' (first at " +
                    formatLocation(other.where) + ")");
        }
      }
      pool.endpoints.push_back(std::move(endpoint));
    }
    if (error_count_ != errors_before) return std::nullopt;
    return pool;
  }

  bool knownCheck(const YAML::Node& node, const std::string& key, const std::string& name) {
    if (name == "none" || config_->findCheck(name)) return true;
    error(node, key, "unknown check '" + name + "'");
    return false;
  }

  void loadPoolRecord(const YAML::Node& node, const Fields& f, const std::string& key,
                      const ZoneContext& ctx, const std::optional<std::string>& owner,
                      uint16_t type, uint32_t record_ttl, bool ttl_given,
                      std::vector<zone::Record>& out) {
    constexpr uint16_t kTypeA = 1;
    constexpr uint16_t kTypeAaaa = 28;
    bool ok = owner && type != 0;
    if (type != 0 && type != kTypeA && type != kTypeAaaa) {
      error(node, key, "a record with a 'pool' must be of type A or AAAA");
      ok = false;
    }
    for (const char* k : {"value", "values"}) {
      if (auto v = f.get(k)) {
        error(*v, joinKey(key, k), std::string("'") + k + "' cannot be used with 'pool'");
        ok = false;
      }
    }
    PoolRecordConfig rec;
    rec.zone = ctx.origin_lower;
    rec.type = type;
    rec.where = at(node);
    rec.key = key;
    const PoolConfig* pool = nullptr;
    if (auto pool_node = f.get("pool")) {
      if (auto name = scalar(*pool_node, joinKey(key, "pool"))) {
        pool = config_->findPool(*name);
        if (!pool) {
          error(*pool_node, joinKey(key, "pool"), "unknown pool '" + *name + "'");
          ok = false;
        } else {
          rec.pool = *name;
          bool want_v6 = type == kTypeAaaa;
          bool any = std::any_of(pool->endpoints.begin(), pool->endpoints.end(),
                                 [&](const EndpointConfig& e) { return e.isV6() == want_v6; });
          if (ok && !any) {
            error(*pool_node, joinKey(key, "pool"),
                  "pool '" + *name + "' has no " + (want_v6 ? "IPv6" : "IPv4") +
                      " endpoints for an " + (want_v6 ? "AAAA" : "A") + " record");
            ok = false;
          }
        }
      }
    }
    // Defaults: the normal TTL is the record's (300 if not given, a sane value for a pooled
    // name); the failover TTL is short so resolvers come back soon after recovery.
    rec.ttl = ttl_given ? record_ttl : 300;
    rec.failover_ttl = std::min<uint32_t>(rec.ttl, 30);
    if (auto ft = f.get("failover_ttl")) {
      if (auto v = ttl(*ft, joinKey(key, "failover_ttl"))) {
        rec.failover_ttl = *v;
        if (*v > rec.ttl) {
          error(*ft, joinKey(key, "failover_ttl"),
                "failover_ttl " + std::to_string(*v) + " is longer than ttl " +
                    std::to_string(rec.ttl) + "; it should let resolvers come back sooner");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    auto when = f.get("when_all_down");
    if (when) {
      auto text = scalar(*when, joinKey(key, "when_all_down"));
      if (text && *text == "serve_primary") {
        rec.when_all_down = WhenAllDown::kServePrimary;
      } else if (text && *text == "serve_all") {
        rec.when_all_down = WhenAllDown::kServeAll;
      } else if (text && *text == "nodata") {
        rec.when_all_down = WhenAllDown::kNoData;
      } else if (text && *text == "servfail") {
        rec.when_all_down = WhenAllDown::kServFail;
      } else if (text) {
        error(*when, joinKey(key, "when_all_down"),
              "unknown when_all_down '" + *text +
                  "' (expected serve_primary, serve_all, nodata or servfail)");
        ok = false;
      }
    }
    if (auto fallback = f.get("fallback")) {
      if (when) {
        error(*fallback, joinKey(key, "fallback"),
              "use either 'fallback' or 'when_all_down', not both");
        ok = false;
      } else if (type == kTypeA || type == kTypeAaaa) {
        auto text = scalar(*fallback, joinKey(key, "fallback"));
        std::string reason;
        auto rdata = text ? zone::parseRdata(type, *text, ctx.origin, &reason) : std::nullopt;
        if (!rdata) {
          if (text) error(*fallback, joinKey(key, "fallback"), reason);
          ok = false;
        } else {
          rec.when_all_down = WhenAllDown::kFallback;
          rec.fallback = *rdata;
        }
      }
    }
    if (!ok) return;
    rec.owner = *owner;
    zone::Record record;
    record.owner = *owner;
    record.type = type;
    record.ttl = rec.ttl;
    record.pooled = zone::PooledId{static_cast<uint32_t>(config_->pool_records.size())};
    record.where = rec.where;
    record.key = key;
    out.push_back(std::move(record));
    config_->pool_records.push_back(std::move(rec));
  }

  std::string file_;
  std::string base_dir_;
  Config* config_ = nullptr;
  std::vector<Document> docs_;
  std::map<std::string, SourceLocation> zones_seen_;  // lowercased origin -> first definition
  bool listen_given_ = false;
  std::vector<Diagnostic> errors_;  // the first kMaxReportedDiagnostics
  size_t error_count_ = 0;          // all of them
  uint64_t alias_nodes_ = 0;        // what the aliases of the files read so far stand for
  std::map<std::string, std::string> ca_files_checked_;  // path -> problem ("" = none)
};

}  // namespace

Config loadString(std::string_view yaml, const std::string& name, const std::string& base_dir) {
  return Loader(name, base_dir).load(yaml);
}

ControlEndpoint loadControlEndpoint(const std::string& path) {
  std::string problem;
  auto text = readBoundedFile(path, file_kind::kConfig, &problem);
  if (!text) throw ConfigError(Diagnostic{{path, 0, 0}, "", problem});
  // The daemon resolves token_file against the file's directory (loadFile's base_dir); an empty
  // one keeps a relative path relative, as ctl always showed it.
  return Loader(path, std::filesystem::path(path).parent_path().string()).controlEndpoint(*text);
}

Config loadFile(const std::string& path) {
  std::string problem;
  auto text = readBoundedFile(path, file_kind::kConfig, &problem);
  if (!text) throw ConfigError(Diagnostic{{path, 0, 0}, "", problem});
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return loadString(*text, path, base_dir);
}

}  // namespace understudy::config
