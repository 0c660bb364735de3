#include "token.h"

#include <utility>

#include "understudy/common/bounded_file.h"

namespace understudy::control {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

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

std::optional<std::string> readTokenFile(const std::string& path, std::string* error) {
  std::string problem;
  auto text = readBoundedFile(path, file_kind::kToken, &problem);
  if (!text) {
    if (error) *error = std::move(problem);
    return std::nullopt;
  }
  std::string_view token = trim(std::string_view(*text).substr(0, text->find('\n')));
  if (token.empty()) {
    if (error) *error = "token file '" + path + "' has an empty first line";
    return std::nullopt;
  }
  return std::string(token);
}

std::optional<std::string_view> bearerToken(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  if (authorization[kScheme.size()] != ' ') return std::nullopt;
  std::string_view token = trim(authorization.substr(kScheme.size() + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace understudy::control
