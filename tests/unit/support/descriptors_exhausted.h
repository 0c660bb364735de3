// Makes this process run out of file descriptors (EMFILE) for as long as the object lives: the
// soft RLIMIT_NOFILE is lowered to a few thousand and every free descriptor below it is taken.
// What was open before (io_contexts, curl handles, listeners) keeps working; anything that needs
// a new descriptor fails as on a loaded host.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace understudy::testing {

class DescriptorsExhausted {
 public:
  DescriptorsExhausted() {
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizer runtimes need descriptors of their own: UBSan's vptr check probes memory
    // through a pipe, and without one it reports every virtual call as a bad object.
    why_not_ = "the sanitizer runtimes need free descriptors";
    return;
#endif
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 4096);
    setrlimit(RLIMIT_NOFILE, &low);
    while (true) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        if (!exhausted_) why_not_ = "could not exhaust the descriptor table";
        break;
      }
      fds_.push_back(fd);
    }
  }
  ~DescriptorsExhausted() {
    for (int fd : fds_) ::close(fd);
    if (saved_.rlim_cur != 0) setrlimit(RLIMIT_NOFILE, &saved_);
  }
  DescriptorsExhausted(const DescriptorsExhausted&) = delete;
  DescriptorsExhausted& operator=(const DescriptorsExhausted&) = delete;

  // False if the table could not be filled (the test should skip, saying whyNot()).
  bool exhausted() const {
    return exhausted_;
  }
  const char* whyNot() const {
    return why_not_;
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
  bool exhausted_ = false;
  const char* why_not_ = "";
};

}  // namespace understudy::testing
