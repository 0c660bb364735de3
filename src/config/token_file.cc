#include "understudy/config/token_file.h"

#include <cstdio>

#include "understudy/common/bounded_file.h"

namespace understudy::config {

namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string quoted(const std::string& path) {
  std::string out = "token file '";
  out += path;
  out += "'";
  return out;
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

std::optional<std::string> tokenFromText(std::string_view text, const std::string& path,
                                         std::string* error) {
  std::string_view line = text.substr(0, text.find('\n'));
  while (!line.empty() && isBlank(line.front())) line.remove_prefix(1);
  while (!line.empty() && isBlank(line.back())) line.remove_suffix(1);
  for (size_t i = 0; i < line.size(); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c <= 0x20 || c >= 0x7f) {
      if (error) {
        *error = quoted(path) + ": the token must be one word of visible ASCII characters, but " +
                 (c == ' ' || c == '\t' ? std::string("it has a blank")
                  : c >= 0x80           ? std::string("it has a non-ASCII byte")
                                        : std::string("it has a control character")) +
                 " at character " + std::to_string(i + 1);
      }
      return std::nullopt;
    }
  }
  if (line.size() < kMinTokenLength) {
    if (error) {
      *error = quoted(path) + " must hold a token of at least " + std::to_string(kMinTokenLength) +
               " characters on its first line (it has " + std::to_string(line.size()) +
               " after stripping surrounding blanks)";
    }
    return std::nullopt;
  }
  return std::string(line);
}

std::optional<std::string> tokenFileModeProblem(mode_t mode, const std::string& path) {
  if ((mode & 007) == 0) return std::nullopt;
  std::string out = quoted(path);
  out += " is ";
  out += (mode & 006) == 006 ? "readable and writable"
         : (mode & 004)      ? "readable"
         : (mode & 002)      ? "writable"
                             : "executable";
  out += " by other users (mode ";
  out += octal(mode);
  out += "); run: chmod 0640 '";
  out += path;
  out += "' (owner root, group of the service user)";
  return out;
}

std::optional<std::string> readTokenFile(const std::string& path, std::string* error,
                                         bool check_mode) {
  auto fail = [&](std::string why) -> std::optional<std::string> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  // A regular file only, at most 4 KiB, never blocking on a FIFO (common/bounded_file.h); the
  // mode checked is that of the file opened, so the path cannot be swapped in between.
  std::string problem;
  auto file = BoundedFile::open(path, file_kind::kToken, &problem);
  if (!file) return fail(std::move(problem));
  if (check_mode) {
    if (auto mode = tokenFileModeProblem(file->mode(), path)) return fail(std::move(*mode));
  }
  std::string text;
  char buf[1024];
  for (;;) {
    ssize_t got = file->read(buf, sizeof buf, &problem);
    if (got < 0) return fail(std::move(problem));
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
  }
  return tokenFromText(text, path, error);
}

}  // namespace understudy::config
