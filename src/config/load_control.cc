// `control:`: the control/metrics HTTP endpoint, and the two keys of it `understudy ctl` reads.
#include <filesystem>

#include "alias_counter.h"
#include "loader.h"
#include "understudy/config/host_name.h"
#include "understudy/config/token_file.h"

namespace understudy::config::detail {

// `understudy ctl`: control.listen and control.token_file of this one document, by the rules
// loadControl() applies to them, and nothing else (see loadControlEndpoint in config.h).
ControlEndpoint Loader::controlEndpoint(std::string_view yaml) {
  ControlEndpoint out;
  out.listen.address = "127.0.0.1";
  out.listen.port = kDefaultControlPort;
  YAML::Node root = parse(yaml);
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

// control: { listen: "127.0.0.1:8053", token_file: /etc/understudy/control.token,
//            max_connections_per_client: 8, hostnames: [ns1.mgmt.example.net] }
void Loader::loadControl(const YAML::Node& node, ControlConfig& control,
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
          control.create_token &&
          std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::not_found;
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

}  // namespace understudy::config::detail
