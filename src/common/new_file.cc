#include "understudy/common/new_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace understudy {

NewFile writeNewFile(const std::string& path, std::string_view content, mode_t mode, int* err) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return NewFile::kExists;
    *err = errno;
    return NewFile::kCannotCreate;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const int write_errno = done == content.size() ? 0 : (errno ? errno : EIO);
  const bool closed = ::close(fd) == 0;
  if (write_errno != 0 || !closed) {
    *err = write_errno != 0 ? write_errno : errno;
    ::unlink(path.c_str());
    return NewFile::kCannotWrite;
  }
  return NewFile::kWritten;
}

}  // namespace understudy
