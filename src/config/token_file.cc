#include "understudy/config/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace understudy::config {

namespace {

// One line of token; more than this is not a token file.
constexpr size_t kMaxTokenFileBytes = 4096;

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
  // O_NONBLOCK: a FIFO named here opens at once instead of waiting for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open " + quoted(path) + ": " + std::strerror(errno));
  struct stat st {};
  std::string text;
  std::optional<std::string> problem;
  if (::fstat(fd, &st) != 0) {
    problem = "cannot stat " + quoted(path) + ": " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = quoted(path) + " is not a regular file";
  } else if (check_mode) {
    problem = tokenFileModeProblem(st.st_mode, path);
  }
  if (!problem) {
    char buf[kMaxTokenFileBytes];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      problem = "cannot read " + quoted(path) + ": " + std::strerror(errno);
    } else if (static_cast<size_t>(n) == sizeof buf &&
               std::memchr(buf, '\n', sizeof buf) == nullptr) {
      problem = quoted(path) + " has a first line longer than " +
                std::to_string(kMaxTokenFileBytes) + " bytes";
    } else {
      text.assign(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (problem) return fail(std::move(*problem));
  return tokenFromText(text, path, error);
}

}  // namespace understudy::config
