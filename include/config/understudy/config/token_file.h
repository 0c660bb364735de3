// The bearer token file (`control.token_file`): one rule, used by `understudy check` (the config
// loader), the daemon's control endpoint at start and on reload, and `understudy ctl`, so that
// what one accepts the others accept too (issue 12: a 16-space token used to pass `check` and
// fail the daemon, and "a" plus 15 spaces passed both as the one-character token "a").
//
// It lives in config, not control: the loader is below the control module in the layering.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::config {

// Long enough that guessing is hopeless at any rate the endpoint answers 401s.
inline constexpr size_t kMinTokenLength = 16;

// The token in a token file's text: its first line, stripped once of surrounding whitespace,
// then at least kMinTokenLength characters, all visible ASCII (no space, tab or control
// character inside: it travels as one word in an HTTP header). nullopt and a reason naming
// `path` otherwise.
std::optional<std::string> tokenFromText(std::string_view text, const std::string& path,
                                         std::string* error);

// A token file that "other" may read or write (mode & 007) hands the token to every local user:
// refused, with the chmod that fixes it. nullopt when the mode is fine.
std::optional<std::string> tokenFileModeProblem(mode_t mode, const std::string& path);

// Opens `path` (a regular file only, never blocking on a FIFO), checks its mode and returns the
// token. The one function the loader, the daemon and `ctl -c` call. With `check_mode` false
// (`ctl --token-file`, a client's own copy) only the text is checked.
std::optional<std::string> readTokenFile(const std::string& path, std::string* error,
                                         bool check_mode = true);

// `control.create_token: true`: when `path` does not exist, creates it (mode 0600, the owner's
// alone) holding a new random token, as BIND's `rndc-confgen -a` does for rndc.key, so a first
// start needs no manual step. An existing file is never touched. *created says which happened.
bool createTokenFile(const std::string& path, bool* created, std::string* error);

}  // namespace understudy::config
