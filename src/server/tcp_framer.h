#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "understudy/dns/types.h"

namespace understudy::server {

// DNS-over-TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is preceded by its length
// in two octets, network order, and a client may send many back to back (RFC 7766 §6.2.1.1).
// This is only the framing, with no socket and no clock, so it is tested and fuzzed on bytes
// alone; TcpConnection reads into writable(), commits what arrived and asks next() for messages.
//
// next() answers like the request parser of Asio's http/server2: kGood (a whole message, which
// next() has taken off the stream), kNeedMore (read more into writable()), or kBad (the stream
// cannot be a DNS query stream; close the connection). kBad is final: with the framing lost
// there is no telling where a next message would start, so every later next() answers the same
// and nothing more is taken in.
//
// Messages are spans into the framer's own buffer, not copies: a message is answered before the
// next read, so a copy would only cost an allocation or a memcpy per query. The buffer starts
// small (an idle connection costs little) and grows to the largest message a client sends, never
// past one maximum frame (2 + 65535 octets): at most one frame is ever held.
class TcpFramer {
 public:
  enum class Result : uint8_t { kGood, kNeedMore, kBad };
  // Why a stream is kBad. Both close the connection at once, as they always have (there is no
  // query to answer; RFC 7766 §8 leaves the remedy to the server): a zero-length frame, which
  // RFC 1035 does not forbid but no query can be, and a frame too short for the 12-octet header
  // that every DNS message starts with (RFC 1035 §4.1.1).
  enum class Error : uint8_t { kNone, kZeroLength, kShorterThanHeader };

  struct Frame {
    Result result = Result::kNeedMore;
    // kGood: the message without its length prefix. Valid until the next writable() or feed().
    std::span<const uint8_t> message;
    Error error = Error::kNone;  // kBad: why
  };

  static constexpr size_t kLengthSize = 2;
  static constexpr size_t kMaxFrame = kLengthSize + 65535;
  // A first query fits with room to spare, and an idle connection costs half a kilobyte.
  static constexpr size_t kInitialCapacity = 512;

  // The next message off the stream, if a whole one is buffered.
  Frame next() noexcept;

  // Where to put the next bytes read; commit(n) then says how many arrived there. Never empty
  // after next() answered kNeedMore; empty after kBad. May move the unread bytes to the front of
  // the buffer, or grow it, so spans next() returned end here.
  std::span<uint8_t> writable();
  void commit(size_t n) noexcept;

  // For callers that hold the bytes elsewhere (the tests, the fuzzer): copies as many of
  // `bytes` as writable() has room for and returns how many that was. Take messages with next()
  // until kNeedMore, then feed the rest.
  size_t feed(std::span<const uint8_t> bytes);

  // A length prefix has been read and its message is not complete yet: a query has begun.
  bool inMessage() const noexcept;
  // Octets held that no kGood message has returned yet.
  size_t buffered() const noexcept { return end_ - start_; }
  // The buffer's size: it only grows, and never past kMaxFrame.
  size_t capacity() const noexcept { return buffer_.size(); }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;  // first octet not yet returned by next()
  size_t end_ = 0;    // one past the last octet committed
  Error error_ = Error::kNone;
};

}  // namespace understudy::server
