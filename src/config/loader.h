// The config loader (private to src/config): YAML -> validated plain structs. Every problem is
// collected (not only the first) and reported with file:line:column and the key path, so one
// `understudy check` run shows the operator everything that needs fixing.
//
// One Loader reads one configuration. Its member functions are defined by section:
//   loader.cc         load(), the main file and its includes, error collection
//   loader_values.cc  typed values shared by the sections (integers, TTLs, durations, headers)
//   load_server.cc    server: and log:
//   load_control.cc   control:, and the part of it `understudy ctl` reads
//   load_notify.cc    notify: (webhooks)
//   load_checks.cc    checks:
//   load_pools.cc     pools: and the records that take their addresses from a pool
//   load_zones.cc     zones: (SOA, records, zone files)
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/config/config.h"
#include "understudy/health/check.h"
#include "understudy/zone/record.h"
#include "yaml_helpers.h"

namespace understudy::config::detail {

class Loader {
 public:
  Loader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config load(std::string_view yaml);

  // `understudy ctl`: control.listen and control.token_file of this one document, by the rules
  // loadControl() applies to them, and nothing else (see loadControlEndpoint in config.h).
  ControlEndpoint controlEndpoint(std::string_view yaml);

 private:
  // One file of the configuration: the main file or an included one.
  struct Document {
    std::string file;
    std::string base_dir;
    YAML::Node root;
    std::string canonical;  // for loop and repeat detection
    Fields top;
  };

  // The parts of a zone entry that records need while they are parsed.
  struct ZoneContext {
    std::string key;           // "zones[0]"
    std::string origin;        // wire, case as written; relative names complete with it
    std::string origin_lower;  // the ZoneSource's origin
    bool origin_valid = false;
    uint32_t default_ttl = kDefaultZoneTtl;
  };

  // ---- errors and locations (loader.cc) ----
  SourceLocation at(const YAML::Mark& mark) const;
  SourceLocation at(const YAML::Node& node) const { return at(node.Mark()); }
  void error(SourceLocation where, std::string key, std::string message);
  void error(const YAML::Node& node, std::string key, std::string message) {
    error(at(node), std::move(key), std::move(message));
  }
  bool withinAliasBudget(const std::string& text);
  // The main file's text as YAML, within the alias budget; throws ConfigError (with the line and
  // column of a syntax error).
  YAML::Node parse(std::string_view yaml);

  // ---- the main file and its includes (loader.cc) ----
  static std::string canonical(const std::string& path);
  void switchTo(const Document& doc);
  void collectIncludes(size_t index, std::vector<std::string>& stack);
  void loadDocuments(Config& config);

  // ---- typed values (loader_values.cc) ----
  bool expectMap(const YAML::Node& node, const std::string& key);
  bool expectList(const YAML::Node& node, const std::string& key);
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& key);
  Fields fields(const YAML::Node& map, const std::string& key,
                std::initializer_list<std::string_view> allowed);
  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& key, uint64_t min,
                                  uint64_t max);
  std::optional<uint32_t> ttl(const YAML::Node& node, const std::string& key);
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, const std::string& key,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& key);
  std::optional<std::string> ipAddress(const YAML::Node& node, const std::string& key);
  void loadHeaders(const YAML::Node& node, const std::string& key,
                   std::vector<std::pair<std::string, std::string>>& out);

  // ---- server: and log: (load_server.cc) ----
  void loadServer(const YAML::Node& node, ServerConfig& server);
  std::string identity(const YAML::Node& node, const std::string& key, bool hostname_allowed);
  void loadListen(const YAML::Node& node, std::vector<ListenAddress>& listen);
  void loadRrl(const YAML::Node& node, RrlSettings& rrl);
  void loadLog(const YAML::Node& node, LogConfig& log);

  // ---- control: (load_control.cc) ----
  void loadControl(const YAML::Node& node, ControlConfig& control,
                   std::vector<Diagnostic>& warnings);

  // ---- notify: (load_notify.cc) ----
  void loadNotify(const YAML::Node& node, std::vector<WebhookConfig>& hooks);

  // ---- checks: (load_checks.cc) ----
  void loadChecks(const YAML::Node& node, std::vector<health::CheckSpec>& checks);
  std::optional<health::CheckSpec> loadCheck(const YAML::Node& node, const std::string& key,
                                             const std::string& name);
  void loadExpectStatus(const YAML::Node& node, const std::string& key, health::CheckSpec& c);
  bool validHost(const YAML::Node& node, const std::string& key, const std::string& host);

  // ---- pools: and pooled records (load_pools.cc) ----
  void loadPools(const YAML::Node& node, std::vector<PoolConfig>& pools);
  std::optional<PoolConfig> loadPool(const YAML::Node& node, const std::string& key,
                                     const std::string& name);
  bool knownCheck(const YAML::Node& node, const std::string& key, const std::string& name);
  void loadPoolRecord(const YAML::Node& node, const Fields& f, const std::string& key,
                      const ZoneContext& ctx, const std::optional<std::string>& owner,
                      uint16_t type, uint32_t record_ttl, bool ttl_given,
                      std::vector<zone::Record>& out);

  // ---- zones: (load_zones.cc) ----
  void loadZones(const YAML::Node& node, std::vector<zone::ZoneSource>& zones);
  std::optional<zone::ZoneSource> loadZone(const YAML::Node& node, size_t index);
  std::optional<zone::Record> loadSoa(const std::optional<YAML::Node>& node, const ZoneContext& ctx,
                                      const SourceLocation& where, bool* serial_auto);
  void loadRecord(const YAML::Node& node, const std::string& key, const ZoneContext& ctx,
                  std::vector<zone::Record>& out);

  std::string file_;
  std::string base_dir_;
  Config* config_ = nullptr;
  std::vector<Document> docs_;
  bool listen_given_ = false;
  std::vector<Diagnostic> errors_;  // the first kMaxReportedDiagnostics
  size_t error_count_ = 0;          // all of them
  uint64_t alias_nodes_ = 0;        // what the aliases of the files read so far stand for
  std::map<std::string, std::string> ca_files_checked_;  // path -> problem ("" = none)
};

}  // namespace understudy::config::detail
