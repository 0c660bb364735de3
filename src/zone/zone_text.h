// The text of a zone file in memory, for the master-file reader (zone_file.cc) and its tokenizer
// (zone_lexer.h). Private to src/zone.
#pragma once

#include <cstddef>
#include <string>

#include "understudy/common/bounded_file.h"

namespace understudy::zone::detail {

// The file's bytes, followed by a NUL sentinel so the tokenizer needs no bounds checks. They live
// in an anonymous mapping of our own so that the part already parsed can be handed back to the
// kernel as we go: a big zone never holds all of its text and all of its records at once. (The
// file is read(), not mmap()ed: a zone file truncated while we read it must not be a SIGBUS.)
class ZoneText {
 public:
  ZoneText() = default;
  ZoneText(const ZoneText&) = delete;
  ZoneText& operator=(const ZoneText&) = delete;
  ~ZoneText();

  // Reads the whole file: a regular file only, at most file_kind::kZone.max_bytes of it. Returns
  // false with `*error` naming the file and the problem.
  bool load(const std::string& path, std::string* error);

  const char* begin() const { return base_; }
  const char* end() const { return base_ + size_; }  // *end() == '\0'
  size_t size() const { return size_; }

  // Everything before `p` has been parsed and will not be looked at again.
  void consumed(const char* p);

 private:
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kRelease = kHugePage;  // a multiple of any page size

  bool readAll(BoundedFile& file, std::string* error);
  static bool outOfMemory(std::string* error);
  bool grow(size_t bytes);

  char* base_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t released_ = 0;
};

// Newlines in [p, e), eight bytes at a time (std::count is a byte loop at -O2).
size_t countNewlines(const char* p, const char* e);

}  // namespace understudy::zone::detail
