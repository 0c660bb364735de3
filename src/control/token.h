// The bearer token that guards mutating control requests (issue 5: "Mutating actions require a
// bearer token from the config (a file path)"). The file's rule is config::readTokenFile, shared
// with `understudy check`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace understudy::control {

// Compares in time that depends only on the lengths, never on where the first difference is,
// so a client cannot find the token byte by byte by timing 401s.
bool tokensEqual(std::string_view a, std::string_view b) noexcept;

// The token of control.token_file, by the same rule as the config loader (config::readTokenFile):
// the first line stripped once, at least 16 visible characters, a file others cannot read.
// nullopt and a reason otherwise.
std::optional<std::string> readTokenFile(const std::string& path, std::string* error,
                                         bool check_mode = true);

// Exactly "Bearer <token>": the scheme in any case (RFC 7235 §2.1), one space, then a token with
// no blank in it (RFC 6750 §2.1). Only the blanks around the whole field value, which are not
// part of it (RFC 9110 §5.5), are ignored. nullopt otherwise.
std::optional<std::string_view> bearerToken(std::string_view authorization);

}  // namespace understudy::control
