// Builds a response message in a caller-owned buffer, with name compression (RFC 1035 §4.1.4)
// and all-or-nothing RRset writes so truncation always falls on an RRset boundary (RFC 2181 §9).
// No allocation: the compression table is a fixed array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "understudy/dns/types.h"

namespace understudy::dns {

enum class Section : uint8_t { kAnswer = 0, kAuthority = 1, kAdditional = 2 };

class MessageWriter {
 public:
  // `limit` is the size the message may not exceed (512, the EDNS size, or 65535 for TCP).
  MessageWriter(uint8_t* buffer, size_t capacity, size_t limit) noexcept;

  void setHeader(uint16_t id, uint16_t flags) noexcept;
  uint16_t flags() const noexcept;
  void setFlags(uint16_t flags) noexcept;
  void setRcode(uint8_t rcode) noexcept;

  // The question is written once, right after the header; its name is remembered for compression.
  bool writeQuestion(const uint8_t* qname, size_t qname_len, uint16_t qtype,
                     uint16_t qclass) noexcept;

  // Writes one resource record. `rdata` is uncompressed wire format; names inside the RDATA of
  // NS, CNAME, PTR, MX and SOA are compressed (RFC 3597 §4 forbids it for any other type).
  bool writeRecord(Section section, std::string_view owner, uint16_t type, uint16_t rclass,
                   uint32_t ttl, std::string_view rdata) noexcept;

  // Writes an OPT pseudo-RR (RFC 6891 §6.1.2) in the additional section. `options` is its
  // RDATA: EDNS options already encoded as {code, length, data}.
  bool writeOpt(uint16_t udp_size, uint8_t ext_rcode, uint8_t version, bool do_bit,
                std::string_view options = {}) noexcept;

  // Marks let a caller write several records and undo them together if the last one fails.
  struct Mark {
    size_t size;
    uint16_t counts[3];
    size_t compression_entries;
  };
  Mark mark() const noexcept;
  void rollback(const Mark& m) noexcept;

  // Reserve bytes at the end (e.g. for the OPT record that must always fit).
  void reserve(size_t bytes) noexcept { reserved_ += bytes; }
  void release(size_t bytes) noexcept { reserved_ -= bytes; }

  uint16_t count(Section s) const noexcept { return counts_[static_cast<int>(s)]; }
  size_t size() const noexcept { return size_; }
  size_t limit() const noexcept { return limit_; }
  // Writes the section counts into the header and returns the message size.
  size_t finish() noexcept;

 private:
  // Owner names match earlier names case-insensitively (so they point at the question, in the
  // client's case); RDATA names only match identical octets.
  bool writeName(std::string_view name, bool compress, bool exact_case) noexcept;
  bool matchAt(size_t offset, const uint8_t* name, size_t len, bool exact_case) const noexcept;
  bool room(size_t n) const noexcept { return size_ + n + reserved_ <= limit_; }

  static constexpr size_t kMaxCompressionEntries = 96;
  uint8_t* buf_;
  size_t capacity_;
  size_t limit_;
  size_t size_ = 0;
  size_t reserved_ = 0;
  uint16_t qdcount_ = 0;
  uint16_t counts_[3] = {0, 0, 0};
  // Offsets of label sequences already in the message that later names may point to.
  uint16_t compression_[kMaxCompressionEntries];
  size_t compression_entries_ = 0;
  // The question's name as the caller passed it: an owner given by the same pointer (the usual
  // answer) is the question itself and becomes a pointer to it without a search.
  const uint8_t* question_ = nullptr;
  size_t question_len_ = 0;
  size_t question_at_ = 0;
};

}  // namespace understudy::dns
