// TcpFramer: DNS-over-TCP framing (RFC 1035 §4.2.2, RFC 7766) on bytes alone, no socket.
#include "tcp_framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace understudy::server {
namespace {

using Bytes = std::vector<uint8_t>;
using Result = TcpFramer::Result;
using Error = TcpFramer::Error;

// A message of `length` octets whose every octet is `fill` (a header's worth or more: the
// framer never looks inside).
Bytes message(size_t length, uint8_t fill) {
  return Bytes(length, fill);
}

Bytes frame(const Bytes& m) {
  // Reserved and appended: GCC 12 at -O3 reports a false -Warray-bounds for inserting after a
  // two-octet initializer list.
  Bytes out;
  out.reserve(2 + m.size());
  out.push_back(static_cast<uint8_t>(m.size() >> 8));
  out.push_back(static_cast<uint8_t>(m.size()));
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Everything the framer yields until it needs more or fails: the messages (copied) and the
// result that stopped it.
struct Drained {
  std::vector<Bytes> messages;
  TcpFramer::Frame last;
};

Drained drain(TcpFramer& framer) {
  Drained d;
  while (true) {
    TcpFramer::Frame f = framer.next();
    if (f.result != Result::kGood) {
      d.last = f;
      return d;
    }
    d.messages.emplace_back(f.message.begin(), f.message.end());
  }
}

// Feeds `bytes` in chunks of the given sizes (the last repeated), draining after each chunk as
// a connection does after each read.
Drained feedInChunks(TcpFramer& framer, const Bytes& bytes, std::vector<size_t> sizes) {
  Drained all;
  size_t at = 0, which = 0;
  while (at < bytes.size()) {
    size_t size = std::min(sizes[std::min(which++, sizes.size() - 1)], bytes.size() - at);
    size_t chunk_end = at + size;
    while (at < chunk_end) {
      size_t took = framer.feed(std::span<const uint8_t>(bytes.data() + at, chunk_end - at));
      at += took;
      Drained d = drain(framer);
      all.messages.insert(all.messages.end(), d.messages.begin(), d.messages.end());
      all.last = d.last;
      if (took == 0) return all;  // kBad: nothing more is taken
    }
  }
  if (bytes.empty()) all.last = framer.next();
  return all;
}

TEST(TcpFramer, NothingYetNeedsMore) {
  TcpFramer framer;
  TcpFramer::Frame f = framer.next();
  EXPECT_EQ(f.result, Result::kNeedMore);
  EXPECT_TRUE(f.message.empty());
  EXPECT_EQ(f.error, Error::kNone);
  EXPECT_FALSE(framer.writable().empty());
}

TEST(TcpFramer, OneMessageIsYieldedWithoutItsPrefixAndTakenOffTheStream) {
  TcpFramer framer;
  Bytes m = message(12, 0xab);
  m[0] = 0x12;
  m[11] = 0x34;
  ASSERT_EQ(framer.feed(frame(m)), 14u);
  TcpFramer::Frame f = framer.next();
  ASSERT_EQ(f.result, Result::kGood);
  EXPECT_EQ(Bytes(f.message.begin(), f.message.end()), m);
  EXPECT_EQ(f.error, Error::kNone);
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_EQ(framer.next().result, Result::kNeedMore) << "a message is yielded once";
}

TEST(TcpFramer, ByteAtATime) {
  Bytes a = message(12, 1), b = message(40, 2);
  Bytes stream = join({frame(a), frame(b)});
  TcpFramer framer;
  std::vector<Bytes> got;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_EQ(framer.feed(std::span<const uint8_t>(&stream[i], 1)), 1u) << "octet " << i;
    TcpFramer::Frame f = framer.next();
    bool completes = i == 13 || i == stream.size() - 1;
    ASSERT_EQ(f.result, completes ? Result::kGood : Result::kNeedMore) << "after octet " << i;
    if (completes) {
      got.emplace_back(f.message.begin(), f.message.end());
      EXPECT_EQ(framer.next().result, Result::kNeedMore);
    }
  }
  EXPECT_EQ(got, (std::vector<Bytes>{a, b}));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(TcpFramer, TwoMessagesInOneChunk) {
  Bytes a = message(12, 1), b = message(29, 2);
  TcpFramer framer;
  Bytes chunk = join({frame(a), frame(b)});
  ASSERT_EQ(framer.feed(chunk), chunk.size());
  Drained d = drain(framer);
  EXPECT_EQ(d.messages, (std::vector<Bytes>{a, b}));
  EXPECT_EQ(d.last.result, Result::kNeedMore);
}

TEST(TcpFramer, TwoMessagesAndTheStartOfAThirdInOneChunk) {
  Bytes a = message(12, 1), b = message(13, 2), c = message(30, 3);
  Bytes stream = join({frame(a), frame(b), frame(c)});
  TcpFramer framer;
  Drained d = feedInChunks(framer, stream, {2 + 12 + 2 + 13 + 5, 1000});
  EXPECT_EQ(d.messages, (std::vector<Bytes>{a, b, c}));
  EXPECT_EQ(d.last.result, Result::kNeedMore);
}

TEST(TcpFramer, AMessageSplitAcrossThreeChunks) {
  Bytes m = message(100, 7);
  m[50] = 0x55;
  Bytes stream = frame(m);
  TcpFramer framer;
  ASSERT_EQ(framer.feed(std::span<const uint8_t>(stream.data(), 30)), 30u);
  EXPECT_EQ(framer.next().result, Result::kNeedMore);
  EXPECT_TRUE(framer.inMessage());
  ASSERT_EQ(framer.feed(std::span<const uint8_t>(stream.data() + 30, 40)), 40u);
  EXPECT_EQ(framer.next().result, Result::kNeedMore);
  ASSERT_EQ(framer.feed(std::span<const uint8_t>(stream.data() + 70, stream.size() - 70)),
            stream.size() - 70);
  TcpFramer::Frame f = framer.next();
  ASSERT_EQ(f.result, Result::kGood);
  EXPECT_EQ(Bytes(f.message.begin(), f.message.end()), m);
  EXPECT_FALSE(framer.inMessage());
}

TEST(TcpFramer, ALengthPrefixSplitAcrossChunks) {
  // 0x01 0x2c = 300: a first octet alone must not be taken for a length of 1 (or of 256).
  Bytes m = message(300, 9);
  Bytes stream = frame(m);
  ASSERT_EQ(stream[0], 0x01);
  TcpFramer framer;
  ASSERT_EQ(framer.feed(std::span<const uint8_t>(stream.data(), 1)), 1u);
  TcpFramer::Frame f = framer.next();
  EXPECT_EQ(f.result, Result::kNeedMore);
  EXPECT_FALSE(framer.inMessage()) << "half a prefix is not a query begun";
  Drained d = feedInChunks(framer, Bytes(stream.begin() + 1, stream.end()), {1, 150, 1000});
  EXPECT_EQ(d.messages, std::vector<Bytes>{m});
  EXPECT_EQ(d.last.result, Result::kNeedMore);
}

TEST(TcpFramer, ZeroLengthIsBad) {
  TcpFramer framer;
  ASSERT_EQ(framer.feed(Bytes{0, 0}), 2u);
  TcpFramer::Frame f = framer.next();
  EXPECT_EQ(f.result, Result::kBad);
  EXPECT_EQ(f.error, Error::kZeroLength);
  EXPECT_TRUE(f.message.empty());
}

TEST(TcpFramer, ALengthShorterThanAHeaderIsBadOnThePrefixAlone) {
  for (uint8_t length : {1, 2, 11}) {
    SCOPED_TRACE(static_cast<int>(length));
    TcpFramer framer;
    // Only the prefix: the verdict must not wait for the body (the connection closes at once).
    ASSERT_EQ(framer.feed(Bytes{0, length}), 2u);
    TcpFramer::Frame f = framer.next();
    EXPECT_EQ(f.result, Result::kBad);
    EXPECT_EQ(f.error, Error::kShorterThanHeader);
  }
}

TEST(TcpFramer, ExactlyAHeaderIsAMessage) {
  TcpFramer framer;
  Bytes m = message(12, 0);
  ASSERT_EQ(framer.feed(frame(m)), 14u);
  TcpFramer::Frame f = framer.next();
  ASSERT_EQ(f.result, Result::kGood);
  EXPECT_EQ(f.message.size(), 12u);
}

TEST(TcpFramer, ABadFrameAfterGoodOnesComesAfterThem) {
  // The connection answers the queries before the bad frame, then closes (in order, as today).
  Bytes a = message(12, 1), b = message(20, 2);
  Bytes stream = join({frame(a), frame(b), Bytes{0, 5, 1, 2, 3, 4, 5}});
  TcpFramer framer;
  ASSERT_EQ(framer.feed(stream), stream.size());
  Drained d = drain(framer);
  EXPECT_EQ(d.messages, (std::vector<Bytes>{a, b}));
  EXPECT_EQ(d.last.result, Result::kBad);
  EXPECT_EQ(d.last.error, Error::kShorterThanHeader);
}

TEST(TcpFramer, BadIsFinal) {
  TcpFramer framer;
  ASSERT_EQ(framer.feed(Bytes{0, 0}), 2u);
  ASSERT_EQ(framer.next().result, Result::kBad);
  // The framing is lost: nothing more is taken in, and a good frame after it is never yielded.
  EXPECT_TRUE(framer.writable().empty());
  EXPECT_EQ(framer.feed(frame(message(12, 1))), 0u);
  framer.commit(14);
  for (int i = 0; i < 3; ++i) {
    TcpFramer::Frame f = framer.next();
    EXPECT_EQ(f.result, Result::kBad);
    EXPECT_EQ(f.error, Error::kZeroLength) << "the first reason stays";
  }
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_FALSE(framer.inMessage());
}

TEST(TcpFramer, TheMaximumLength65535) {
  Bytes m = message(65535, 0x5a);
  m.front() = 1;
  m.back() = 2;
  Bytes stream = join({frame(m), frame(message(12, 3))});
  ASSERT_EQ(stream[0], 0xff);
  ASSERT_EQ(stream[1], 0xff);
  TcpFramer framer;
  // As reads of whatever size writable() offers: the buffer must grow to hold the whole frame.
  Drained d = feedInChunks(framer, stream, {1000, 4096});
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0], m);
  EXPECT_EQ(d.messages[1], message(12, 3));
  EXPECT_EQ(d.last.result, Result::kNeedMore);
  EXPECT_EQ(framer.capacity(), TcpFramer::kMaxFrame);
}

TEST(TcpFramer, AMaximumFrameInOneFeedIsTakenAsFarAsTheBufferGoes) {
  // One feed of a whole 65537-octet frame: taken in steps (first the small buffer, then the
  // rest once the prefix says how much is coming), never all copied into a buffer too small.
  Bytes m = message(65535, 0x11);
  Bytes stream = frame(m);
  TcpFramer framer;
  size_t first = framer.feed(stream);
  EXPECT_EQ(first, TcpFramer::kInitialCapacity);
  EXPECT_EQ(framer.next().result, Result::kNeedMore);
  EXPECT_TRUE(framer.inMessage());
  size_t second =
      framer.feed(std::span<const uint8_t>(stream.data() + first, stream.size() - first));
  EXPECT_EQ(first + second, stream.size());
  TcpFramer::Frame f = framer.next();
  ASSERT_EQ(f.result, Result::kGood);
  EXPECT_EQ(f.message.size(), 65535u);
}

TEST(TcpFramer, WritableIsNeverEmptyWhileMoreIsNeededAndNeverHoldsMoreThanAFrame) {
  // Messages of every size from a header to past the initial buffer, back to back, read the
  // way a connection reads: into writable(), as much as it offers.
  Bytes stream;
  std::vector<Bytes> sent;
  for (size_t length = 12; length < 1200; length += 97) {
    sent.push_back(message(length, static_cast<uint8_t>(length)));
    Bytes f = frame(sent.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  TcpFramer framer;
  std::vector<Bytes> got;
  size_t at = 0;
  while (at < stream.size()) {
    std::span<uint8_t> room = framer.writable();
    ASSERT_FALSE(room.empty()) << "at " << at;
    size_t n = std::min(room.size(), stream.size() - at);
    std::copy_n(stream.begin() + static_cast<long>(at), n, room.begin());
    framer.commit(n);
    at += n;
    EXPECT_LE(framer.buffered(), TcpFramer::kMaxFrame);
    EXPECT_LE(framer.capacity(), TcpFramer::kMaxFrame);
    Drained d = drain(framer);
    ASSERT_EQ(d.last.result, Result::kNeedMore);
    got.insert(got.end(), d.messages.begin(), d.messages.end());
  }
  EXPECT_EQ(got, sent);
}

TEST(TcpFramer, AnIdleFramerStaysSmall) {
  TcpFramer framer;
  EXPECT_EQ(framer.writable().size(), TcpFramer::kInitialCapacity);
  Drained d = feedInChunks(framer, join({frame(message(12, 1)), frame(message(100, 2))}), {7});
  EXPECT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(framer.capacity(), TcpFramer::kInitialCapacity)
      << "small messages must not grow the buffer: an idle connection costs its size";
}

TEST(TcpFramer, EverySplitOfAStreamYieldsTheSameMessages) {
  Bytes a = message(12, 1), b = message(600, 2), c = message(13, 3);
  Bytes stream = join({frame(a), frame(b), frame(c), Bytes{0}});  // ends half-way into a prefix
  const std::vector<Bytes> want{a, b, c};
  for (size_t first = 1; first < stream.size(); ++first) {
    for (size_t rest : {size_t{1}, size_t{3}, size_t{64}, size_t{100000}}) {
      TcpFramer framer;
      Drained d = feedInChunks(framer, stream, {first, rest});
      ASSERT_EQ(d.messages, want) << "first chunk " << first << ", then " << rest;
      ASSERT_EQ(d.last.result, Result::kNeedMore);
      ASSERT_EQ(framer.buffered(), 1u);
    }
  }
}

}  // namespace
}  // namespace understudy::server
