#include "understudy/config/token_file.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "understudy/common/bounded_file.h"
#include "understudy/common/new_file.h"

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

bool createTokenFile(const std::string& path, bool* created, std::string* error) {
  *created = false;
  // 32 random bytes as 64 hex digits: 256 bits, one word in an Authorization header.
  unsigned char random[32];
  size_t have = 0;
  while (have < sizeof random) {
    ssize_t got = ::getrandom(random + have, sizeof random - have, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    have += static_cast<size_t>(got);
  }
  std::string text;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : random) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  text += '\n';
  if (have != sizeof random) {
    // Nothing to write; a token file that already exists is still fine.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return true;
    if (error) *error = "cannot write token file " + quoted(path) + ": no random bytes";
    return false;
  }
  // An existing file is left alone (and then checked like any token file); never written through
  // a link or over a file someone put there meanwhile.
  int err = 0;
  switch (writeNewFile(path, text, 0600, &err)) {
    case NewFile::kExists:
      return true;
    case NewFile::kCannotCreate:
      if (error) *error = "cannot create token file " + quoted(path) + ": " + std::strerror(err);
      return false;
    case NewFile::kCannotWrite:
      if (error) *error = "cannot write token file " + quoted(path) + ": " + std::strerror(err);
      return false;
    case NewFile::kWritten:
      break;
  }
  *created = true;
  return true;
}

}  // namespace understudy::config
