#include "token.h"

#include "understudy/config/token_file.h"

namespace understudy::control {

bool tokensEqual(std::string_view a, std::string_view b) noexcept {
  // volatile keeps the compiler from turning the loop back into an early-exit compare.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<std::string> readTokenFile(const std::string& path, std::string* error,
                                         bool check_mode) {
  return config::readTokenFile(path, error, check_mode);
}

std::optional<std::string_view> bearerToken(std::string_view authorization) {
  auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!authorization.empty() && ows(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && ows(authorization.back())) authorization.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  if (authorization[kScheme.size()] != ' ') return std::nullopt;
  std::string_view token = authorization.substr(kScheme.size() + 1);
  for (char c : token) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  return token;
}

}  // namespace understudy::control
