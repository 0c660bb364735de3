// The bearer token that guards mutating control requests (issue 5: "Mutating actions require a
// bearer token from the config (a file path)").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace understudy::control {

// Compares in time that depends only on the lengths, never on where the first difference is,
// so a client cannot find the token byte by byte by timing 401s.
bool tokensEqual(std::string_view a, std::string_view b) noexcept;

// The first line of `path`, without a trailing "\r" or surrounding blanks. nullopt and a reason
// when the file cannot be read or the line is empty.
std::optional<std::string> readTokenFile(const std::string& path, std::string* error);

// "Bearer abc" -> "abc" (RFC 6750 §2.1: the scheme is case-insensitive). nullopt otherwise.
std::optional<std::string_view> bearerToken(std::string_view authorization);

}  // namespace understudy::control
