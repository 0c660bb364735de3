// Reading a file the configuration names, safely: only a regular file, and never more of it than
// a limit per kind of file (docs/configuration.md "Files and limits"). A FIFO, a device or a
// directory named where a file belongs would otherwise block a reload forever (a FIFO with no
// writer) or read until memory runs out (/dev/zero). Every path the configuration reads goes
// through here, so the checks and their messages are the same for all of them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace understudy {

// What a file is for (in messages) and the most of it that will be read.
struct FileKind {
  const char* what;    // "zone file": "cannot open zone file '/x': ..."
  const char* plural;  // "zone files": "... larger than the 1 GiB limit for zone files"
  uint64_t max_bytes;
};

namespace file_kind {
// A YAML file: the main config or an included one. 16 MiB is thousands of checks and pools and
// some hundred thousand YAML records, more than any hand-written file; big zones belong in zone
// files, which load several times faster and in a fraction of the memory.
inline constexpr FileKind kConfig{"config file", "config files", uint64_t{16} << 20};
inline constexpr FileKind kInclude{"included file", "included files", uint64_t{16} << 20};
// An RFC 1035 zone file. 1 GiB is about 35 million names at the ~30 bytes a name of a typical
// zone (the 1.3 million-name bench zone is 37 MB): 27 times the largest zone measured, and the
// most that fits in memory comfortably, as the text and its records are held while it loads.
inline constexpr FileKind kZone{"zone file", "zone files", uint64_t{1} << 30};
// A bearer token: one line.
inline constexpr FileKind kToken{"token file", "token files", uint64_t{4} << 10};
// PEM certificates for a check's `ca_file`; Debian's whole trust store is 220 KB.
inline constexpr FileKind kCa{"CA file", "CA files", uint64_t{1} << 20};
}  // namespace file_kind

// "16 MiB", "1 GiB", "4 KiB", "100 bytes".
std::string formatByteSize(uint64_t bytes);

// An open regular file, read with a hard cap. Move-only; closes on destruction.
class BoundedFile {
 public:
  // Opens `path` for reading. Refuses anything but a regular file and a file already larger than
  // the limit. The open itself cannot block: O_NONBLOCK (a FIFO without a writer opens at once),
  // O_NOCTTY (a terminal never becomes ours); the type is checked with fstat on the descriptor
  // that is then read, so the path cannot be swapped between the check and the read.
  // On failure returns nullopt and sets `*error`, e.g. "cannot open zone file '/x': No such file
  // or directory", "zone file '/dev/zero' is not a regular file (it is a character device)".
  static std::optional<BoundedFile> open(const std::string& path, const FileKind& kind,
                                         std::string* error);

  BoundedFile(BoundedFile&& other) noexcept;
  BoundedFile& operator=(BoundedFile&& other) noexcept;
  BoundedFile(const BoundedFile&) = delete;
  BoundedFile& operator=(const BoundedFile&) = delete;
  ~BoundedFile();

  // The size when opened: a hint for the first buffer, not a promise (files can grow).
  uint64_t sizeHint() const { return size_hint_; }
  // The mode of the file opened (fstat of this descriptor): for checks on who may read it.
  mode_t mode() const { return mode_; }

  // Reads up to `n` bytes into `buf`. Returns the count (0 at the end of the file), or -1 with
  // `*error` set on a read error or once the file turns out to be larger than the limit: it never
  // reads more than the limit + 1 bytes in all, whatever the file claims its size is.
  ssize_t read(char* buf, size_t n, std::string* error);

 private:
  BoundedFile(int fd, std::string path, const FileKind& kind, uint64_t size_hint)
      : fd_(fd), path_(std::move(path)), kind_(&kind), size_hint_(size_hint) {}
  std::string tooLarge() const;

  int fd_ = -1;
  std::string path_;
  const FileKind* kind_;
  uint64_t size_hint_ = 0;
  uint64_t total_ = 0;
  mode_t mode_ = 0;
};

// The whole file, through BoundedFile. nullopt and `*error` on any failure.
std::optional<std::string> readBoundedFile(const std::string& path, const FileKind& kind,
                                           std::string* error);

}  // namespace understudy
