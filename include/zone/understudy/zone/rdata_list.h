// The packed RDATA of an RRset: [2-byte length][RDATA] per record, and a read-only view of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::zone {

// The records of one RRset: a read-only view of packed [u16 length][RDATA] entries.
class RdataList {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const uint8_t* p) : p_(p) {}
    std::string_view operator*() const noexcept {
      return std::string_view(reinterpret_cast<const char*>(p_ + 2), length());
    }
    iterator& operator++() noexcept {
      p_ += 2 + length();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }

   private:
    size_t length() const noexcept { return static_cast<size_t>(p_[0] << 8 | p_[1]); }
    const uint8_t* p_ = nullptr;
  };

  RdataList() = default;
  RdataList(const uint8_t* data, uint32_t bytes, uint32_t count) noexcept
      : data_(data), bytes_(bytes), count_(count) {}

  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  iterator begin() const noexcept { return iterator(data_); }
  iterator end() const noexcept { return iterator(data_ + bytes_); }
  std::string_view front() const noexcept { return *begin(); }
  // Linear: for tests and diagnostics, not the query path.
  std::string_view operator[](size_t i) const noexcept;
  std::vector<std::string> strings() const;
  const uint8_t* data() const noexcept { return data_; }
  uint32_t bytes() const noexcept { return bytes_; }

 private:
  const uint8_t* data_ = nullptr;
  uint32_t bytes_ = 0;
  uint32_t count_ = 0;
};

// Appends one record to a packed RDATA buffer (RDATA is at most 65535 octets by construction).
void appendPacked(std::string& packed, std::string_view rdata);

}  // namespace understudy::zone
