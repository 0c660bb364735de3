// `understudy ctl ...`: a command-line client of the control endpoint, printing readable tables.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace understudy::control {

struct CtlOptions {
  std::string config_path;    // where to read control.listen and control.token_file from
  bool config_given = false;  // -c on the command line (else a missing default file is fine)
  std::string url;            // --url: overrides the config's address
  std::string token_file;     // --token-file: overrides the config's
  bool json = false;          // print the server's JSON instead of tables
  std::string command;  // status, explain, drain, undrain, force-down, force-up, clear, reload
  std::vector<std::string> args;  // explain: NAME [TYPE]; overrides: POOL ENDPOINT
  std::string duration;           // --for
  int timeout_ms = 10000;
};

// Returns the process exit code: 0 on success, 1 with the server's error message (or why the
// endpoint could not be reached) on stderr otherwise.
int runCtl(const CtlOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace understudy::control
