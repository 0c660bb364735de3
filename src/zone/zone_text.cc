#include "zone_text.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace understudy::zone::detail {

ZoneText::~ZoneText() {
  if (base_) ::munmap(base_, capacity_);
}

bool ZoneText::load(const std::string& path, std::string* error) {
  auto file = BoundedFile::open(path, file_kind::kZone, error);
  return file && readAll(*file, error);
}

void ZoneText::consumed(const char* p) {
  size_t done = static_cast<size_t>(p - base_) & ~(kRelease - 1);
  if (done > released_) {
    ::madvise(base_ + released_, done - released_, MADV_DONTNEED);
    released_ = done;
  }
}

bool ZoneText::readAll(BoundedFile& file, std::string* error) {
  if (!grow(static_cast<size_t>(file.sizeHint()) + 1)) return outOfMemory(error);
  for (;;) {
    if (size_ + 1 >= capacity_ && !grow(capacity_ * 2)) return outOfMemory(error);
    ssize_t got = file.read(base_ + size_, capacity_ - 1 - size_, error);
    if (got < 0) return false;
    if (got == 0) break;
    size_ += static_cast<size_t>(got);
  }
  base_[size_] = '\0';
  return true;
}

bool ZoneText::outOfMemory(std::string* error) {
  *error = "cannot read zone file: ";
  *error += std::strerror(ENOMEM);
  return false;
}

bool ZoneText::grow(size_t bytes) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t capacity = std::max<size_t>((bytes + page - 1) / page * page, 64 * 1024);
  if (base_) {
    void* p = ::mremap(base_, capacity_, capacity, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return false;
    base_ = static_cast<char*>(p);
    capacity_ = capacity;
    return true;
  }
  // A big buffer starts on a huge page boundary and asks for transparent huge pages: a few
  // dozen page faults instead of tens of thousands.
  const size_t extra = capacity >= kHugePage ? kHugePage : 0;
  void* p =
      ::mmap(nullptr, capacity + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  char* raw = static_cast<char*>(p);
  base_ = raw;
  if (extra != 0) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(raw);
    base_ = raw + ((kHugePage - at % kHugePage) % kHugePage);
    if (base_ > raw) ::munmap(raw, static_cast<size_t>(base_ - raw));
    char* tail = base_ + capacity;
    if (raw + capacity + extra > tail) {
      ::munmap(tail, static_cast<size_t>(raw + capacity + extra - tail));
    }
    ::madvise(base_, capacity, MADV_HUGEPAGE);
  }
  capacity_ = capacity;
  return true;
}

size_t countNewlines(const char* p, const char* e) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7f;
  size_t total = 0;
  while (e - p >= 8) {
    uint64_t bytes = 0;  // per byte: how many newlines seen at that position, at most 255
    for (int round = 0; round < 255 && e - p >= 8; ++round, p += 8) {
      uint64_t x = 0;
      std::memcpy(&x, p, 8);
      x ^= kOnes * '\n';                                     // newline bytes are now zero
      uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);  // high bit set exactly on zero bytes
      bytes += zero >> 7;
    }
    uint64_t pairs = (bytes & 0x00ff00ff00ff00ff) + ((bytes >> 8) & 0x00ff00ff00ff00ff);
    total += static_cast<size_t>((pairs * 0x0001000100010001) >> 48);
  }
  for (; p < e; ++p) total += *p == '\n';
  return total;
}

}  // namespace understudy::zone::detail
