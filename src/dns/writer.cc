#include "understudy/dns/writer.h"

#include <cstring>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"

namespace understudy::dns {

namespace {

// Length of the uncompressed wire name at the start of `data`, or 0 if malformed.
size_t wireNameLength(const uint8_t* data, size_t len) noexcept {
  size_t i = 0;
  while (i < len) {
    uint8_t l = data[i];
    if (l == 0) return i + 1;
    if (l > kMaxLabelLength) return 0;
    i += 1 + l;
  }
  return 0;
}

}  // namespace

MessageWriter::MessageWriter(uint8_t* buffer, size_t capacity, size_t limit) noexcept
    : buf_(buffer), capacity_(capacity), limit_(limit < capacity ? limit : capacity) {
  if (limit_ < kHeaderSize) limit_ = capacity_ < kHeaderSize ? capacity_ : kHeaderSize;
  std::memset(buf_, 0, kHeaderSize < capacity_ ? kHeaderSize : capacity_);
  size_ = kHeaderSize;
}

void MessageWriter::setHeader(uint16_t id, uint16_t flags) noexcept {
  writeU16(buf_, id);
  writeU16(buf_ + 2, flags);
}

uint16_t MessageWriter::flags() const noexcept {
  return readU16(buf_ + 2);
}
void MessageWriter::setFlags(uint16_t flags) noexcept {
  writeU16(buf_ + 2, flags);
}
void MessageWriter::setRcode(uint8_t rcode) noexcept {
  writeU16(buf_ + 2, static_cast<uint16_t>((flags() & ~0xf) | (rcode & 0xf)));
}

bool MessageWriter::matchAt(size_t offset, const uint8_t* name, size_t len,
                            bool exact_case) const noexcept {
  size_t pos = offset;
  size_t i = 0;
  int jumps = 0;
  while (true) {
    if (pos >= size_) return false;
    uint8_t l = buf_[pos];
    if ((l & 0xc0) == 0xc0) {
      if (++jumps > 32) return false;
      pos = ((l & 0x3f) << 8) | buf_[pos + 1];
      continue;
    }
    if (i >= len || name[i] != l) return false;
    if (l == 0) return true;
    for (size_t k = 1; k <= l; ++k) {
      uint8_t a = buf_[pos + k];
      uint8_t b = name[i + k];
      if (a != b && (exact_case || lowerByte(a) != lowerByte(b))) return false;
    }
    pos += 1 + l;
    i += 1 + l;
  }
}

bool MessageWriter::writeName(std::string_view name_view, bool compress, bool exact_case) noexcept {
  const auto* name = reinterpret_cast<const uint8_t*>(name_view.data());
  const size_t len = name_view.size();
  if (compress && name == question_ && len == question_len_ && len > 1) {
    if (!room(2)) return false;
    buf_[size_++] = static_cast<uint8_t>(0xc0 | (question_at_ >> 8));
    buf_[size_++] = static_cast<uint8_t>(question_at_ & 0xff);
    return true;
  }
  // Find the longest suffix already present in the message.
  size_t suffix = len;  // offset within `name` where the pointer goes; len = none found
  uint16_t target = 0;
  if (compress) {
    for (size_t s = 0; s < len && name[s] != 0; s += 1 + name[s]) {
      for (size_t e = 0; e < compression_entries_; ++e) {
        if (matchAt(compression_[e], name + s, len - s, exact_case)) {
          suffix = s;
          target = compression_[e];
          break;
        }
      }
      if (suffix != len) break;
    }
  }
  size_t literal = suffix == len ? len : suffix;
  size_t need = literal + (suffix == len ? 0 : 2);
  if (!room(need)) return false;
  // Remember where each literal label starts so later names can point at it.
  for (size_t s = 0; s < literal && name[s] != 0; s += 1 + name[s]) {
    size_t at = size_ + s;
    if (at < 0x3fff && compression_entries_ < kMaxCompressionEntries)
      compression_[compression_entries_++] = static_cast<uint16_t>(at);
  }
  std::memcpy(buf_ + size_, name, literal);
  size_ += literal;
  if (suffix != len) {
    buf_[size_++] = static_cast<uint8_t>(0xc0 | (target >> 8));
    buf_[size_++] = static_cast<uint8_t>(target & 0xff);
  }
  return true;
}

bool MessageWriter::writeQuestion(const uint8_t* qname, size_t qname_len, uint16_t qtype,
                                  uint16_t qclass) noexcept {
  Mark m = mark();
  if (!writeName(std::string_view(reinterpret_cast<const char*>(qname), qname_len), true, false) ||
      !room(4)) {
    rollback(m);
    return false;
  }
  writeU16(buf_ + size_, qtype);
  writeU16(buf_ + size_ + 2, qclass);
  size_ += 4;
  qdcount_ = 1;
  if (m.size < 0x3fff) {
    question_ = qname;
    question_len_ = qname_len;
    question_at_ = m.size;
  }
  return true;
}

bool MessageWriter::writeRecord(Section section, std::string_view owner, uint16_t type,
                                uint16_t rclass, uint32_t ttl, std::string_view rdata) noexcept {
  Mark m = mark();
  auto fail = [&] {
    rollback(m);
    return false;
  };
  if (!writeName(owner, true, false) || !room(10)) return fail();
  writeU16(buf_ + size_, type);
  writeU16(buf_ + size_ + 2, rclass);
  writeU32(buf_ + size_ + 4, ttl);
  size_t rdlen_at = size_ + 8;
  size_ += 10;
  size_t rdata_start = size_;
  const auto* rd = reinterpret_cast<const uint8_t*>(rdata.data());
  const size_t rdsize = rdata.size();
  auto name = [&](size_t at) -> size_t {
    return at < rdsize ? wireNameLength(rd + at, rdsize - at) : 0;
  };
  auto literal = [&](size_t from, size_t n) {
    if (!room(n)) return false;
    std::memcpy(buf_ + size_, rd + from, n);
    size_ += n;
    return true;
  };
  // RFC 4343 §4.1: names in RDATA keep their case, so they only point at identical octets.
  auto compressed = [&](size_t from, size_t n) {
    return writeName(std::string_view(rdata.data() + from, n), true, /*exact_case=*/true);
  };
  switch (type) {
    case rrtype::kNs:
    case rrtype::kCname:
    case rrtype::kPtr: {
      size_t n = name(0);
      if (n == 0 || n != rdsize) return fail();
      if (!compressed(0, n)) return fail();
      break;
    }
    case rrtype::kMx: {
      size_t n = name(2);
      if (rdsize < 3 || n == 0 || 2 + n != rdsize) return fail();
      if (!literal(0, 2) || !compressed(2, n)) return fail();
      break;
    }
    case rrtype::kSoa: {
      size_t m1 = name(0);
      size_t m2 = m1 ? name(m1) : 0;
      if (m1 == 0 || m2 == 0 || m1 + m2 + 20 != rdsize) return fail();
      if (!compressed(0, m1) || !compressed(m1, m2) || !literal(m1 + m2, 20)) return fail();
      break;
    }
    default:
      if (!literal(0, rdsize)) return fail();
  }
  writeU16(buf_ + rdlen_at, static_cast<uint16_t>(size_ - rdata_start));
  ++counts_[static_cast<int>(section)];
  return true;
}

bool MessageWriter::writeOpt(uint16_t udp_size, uint8_t ext_rcode, uint8_t version, bool do_bit,
                             std::string_view options) noexcept {
  // The reservation for OPT is what makes this fit.
  if (options.size() > 0xffff || size_ + 11 + options.size() > limit_) return false;
  uint8_t* p = buf_ + size_;
  p[0] = 0;  // root owner
  writeU16(p + 1, rrtype::kOpt);
  writeU16(p + 3, udp_size);
  uint32_t ttl = (uint32_t{ext_rcode} << 24) | (uint32_t{version} << 16) | (do_bit ? 0x8000u : 0u);
  writeU32(p + 5, ttl);
  writeU16(p + 9, static_cast<uint16_t>(options.size()));
  if (!options.empty()) std::memcpy(p + 11, options.data(), options.size());
  size_ += 11 + options.size();
  ++counts_[static_cast<int>(Section::kAdditional)];
  return true;
}

MessageWriter::Mark MessageWriter::mark() const noexcept {
  return Mark{size_, {counts_[0], counts_[1], counts_[2]}, compression_entries_};
}

void MessageWriter::rollback(const Mark& m) noexcept {
  size_ = m.size;
  counts_[0] = m.counts[0];
  counts_[1] = m.counts[1];
  counts_[2] = m.counts[2];
  compression_entries_ = m.compression_entries;
  if (question_ && m.size <= question_at_) question_ = nullptr;
}

size_t MessageWriter::finish() noexcept {
  writeU16(buf_ + 4, qdcount_);
  writeU16(buf_ + 6, counts_[0]);
  writeU16(buf_ + 8, counts_[1]);
  writeU16(buf_ + 10, counts_[2]);
  return size_;
}

}  // namespace understudy::dns
