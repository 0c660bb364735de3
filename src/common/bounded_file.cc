#include "understudy/common/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace understudy {

namespace {

const char* typeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

std::string quoted(const std::string& path) {
  std::string out = "'";
  out += path;
  out += '\'';
  return out;
}

std::string cannotOpen(const FileKind& kind, const std::string& path, int err) {
  std::string out = "cannot open ";
  out += kind.what;
  out += ' ';
  out += quoted(path);
  out += ": ";
  out += std::strerror(err);
  return out;
}

std::string notRegular(const FileKind& kind, const std::string& path, mode_t mode) {
  std::string out = kind.what;
  out += ' ';
  out += quoted(path);
  out += " is not a regular file (it is ";
  out += typeName(mode);
  out += ')';
  return out;
}

}  // namespace

std::string formatByteSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024 || bytes % 1024 != 0) return std::to_string(bytes) + " bytes";
  uint64_t value = bytes / 1024;
  size_t unit = 0;
  while (value % 1024 == 0 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  std::string out = std::to_string(value);
  out += ' ';
  out += kUnits[unit];
  return out;
}

std::optional<BoundedFile> BoundedFile::open(const std::string& path, const FileKind& kind,
                                             std::string* error) {
  // A look before opening: opening a device can itself do something (a tape rewinds, a watchdog
  // is armed), so a path that is not a regular file now is never opened at all.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = cannotOpen(kind, path, errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = notRegular(kind, path, st.st_mode);
    return std::nullopt;
  }
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *error = cannotOpen(kind, path, errno);
    return std::nullopt;
  }
  // The path may have been replaced since the look above: what counts is what was opened.
  BoundedFile file(fd, path, kind, 0);
  if (::fstat(fd, &st) != 0) {
    *error = cannotOpen(kind, path, errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = notRegular(kind, path, st.st_mode);
    return std::nullopt;
  }
  file.size_hint_ = static_cast<uint64_t>(st.st_size);
  file.mode_ = st.st_mode;
  if (file.size_hint_ > kind.max_bytes) {
    *error = file.tooLarge();
    return std::nullopt;
  }
  // Reads of a regular file ignore O_NONBLOCK, but a file is read blocking by intent.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return file;
}

BoundedFile::BoundedFile(BoundedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      kind_(other.kind_),
      size_hint_(other.size_hint_),
      total_(other.total_),
      mode_(other.mode_) {}

BoundedFile& BoundedFile::operator=(BoundedFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    kind_ = other.kind_;
    size_hint_ = other.size_hint_;
    total_ = other.total_;
    mode_ = other.mode_;
  }
  return *this;
}

BoundedFile::~BoundedFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string BoundedFile::tooLarge() const {
  std::string out = kind_->what;
  out += ' ';
  out += quoted(path_);
  out += " is larger than the ";
  out += formatByteSize(kind_->max_bytes);
  out += " limit for ";
  out += kind_->plural;
  return out;
}

ssize_t BoundedFile::read(char* buf, size_t n, std::string* error) {
  // One byte past the limit is enough to know the file is too large.
  const uint64_t left = kind_->max_bytes + 1 - total_;
  if (n > left) n = static_cast<size_t>(left);
  ssize_t got = 0;
  do {
    got = ::read(fd_, buf, n);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    std::string out = "cannot read ";
    out += kind_->what;
    out += ' ';
    out += quoted(path_);
    out += ": ";
    out += std::strerror(errno);
    *error = std::move(out);
    return -1;
  }
  total_ += static_cast<uint64_t>(got);
  if (total_ > kind_->max_bytes) {
    *error = tooLarge();
    return -1;
  }
  return got;
}

std::optional<std::string> readBoundedFile(const std::string& path, const FileKind& kind,
                                           std::string* error) {
  auto file = BoundedFile::open(path, kind, error);
  if (!file) return std::nullopt;
  std::string text;
  // Room for the whole file as it was when opened, plus the byte that shows it grew.
  text.resize(static_cast<size_t>(file->sizeHint()) + 1);
  size_t size = 0;
  for (;;) {
    if (size == text.size()) {
      text.resize(static_cast<size_t>(std::min<uint64_t>(text.size() * 2, kind.max_bytes + 1)));
    }
    ssize_t got = file->read(text.data() + size, text.size() - size, error);
    if (got < 0) return std::nullopt;
    if (got == 0) break;
    size += static_cast<size_t>(got);
  }
  text.resize(size);
  return text;
}

}  // namespace understudy
