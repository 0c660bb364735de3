// The DNS-over-TCP framer (server::TcpFramer) on bytes alone, no socket. The input is a split
// plan and a byte stream:
//   byte 0        k = byte 0 & 15: how many chunk sizes follow
//   bytes 1..k    chunk sizes, used in turn (0 = as much as writable() offers)
//   the rest      the stream a client sends
// The stream goes through the framer five ways: all at once, one octet at a time, in the chunks
// of the plan through feed(), in the chunks of the plan through writable()/commit() (the way
// TcpConnection reads), and in chunks from a generator seeded by the input. Each way must yield
// exactly what a plain reading of the stream gives: every message with the length its prefix
// announced and the octets that followed it, in order, then kNeedMore, or kBad with the reason
// of the first frame that cannot be a query. Along the way: writable() is never empty while more
// is needed, the framer never holds more than one maximum frame, kBad is final, and every chunk
// is fed from a heap block of exactly its size, so ASan reports an over-read of the input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "tcp_framer.h"
#include "understudy/dns/types.h"

using understudy::server::TcpFramer;
using Bytes = std::vector<uint8_t>;

namespace {

[[noreturn]] void fail(const char* how, const char* what) {
  std::fprintf(stderr, "tcp_framer_fuzzer: fed %s: %s\n", how, what);
  std::abort();
}

struct Outcome {
  std::vector<Bytes> messages;
  TcpFramer::Result result = TcpFramer::Result::kNeedMore;
  TcpFramer::Error error = TcpFramer::Error::kNone;
};

// RFC 1035 §4.2.2 read straight off the whole stream.
Outcome reference(std::span<const uint8_t> stream) {
  Outcome out;
  size_t pos = 0;
  while (pos + 2 <= stream.size()) {
    size_t length = (size_t{stream[pos]} << 8) | stream[pos + 1];
    if (length < understudy::dns::kHeaderSize) {
      out.result = TcpFramer::Result::kBad;
      out.error =
          length == 0 ? TcpFramer::Error::kZeroLength : TcpFramer::Error::kShorterThanHeader;
      return out;
    }
    if (pos + 2 + length > stream.size()) break;
    out.messages.emplace_back(stream.begin() + pos + 2, stream.begin() + pos + 2 + length);
    pos += 2 + length;
  }
  return out;
}

// Takes every message the framer holds, checking each as it comes.
void drain(TcpFramer& framer, Outcome& out, const char* how) {
  while (true) {
    TcpFramer::Frame f = framer.next();
    if (framer.buffered() > TcpFramer::kMaxFrame || framer.capacity() > TcpFramer::kMaxFrame) {
      fail(how, "holds more than one maximum frame");
    }
    switch (f.result) {
      case TcpFramer::Result::kGood:
        if (f.message.size() < understudy::dns::kHeaderSize) fail(how, "a message below a header");
        if (f.error != TcpFramer::Error::kNone) fail(how, "kGood with a reason");
        out.messages.emplace_back(f.message.begin(), f.message.end());
        continue;
      case TcpFramer::Result::kNeedMore:
        if (f.error != TcpFramer::Error::kNone || !f.message.empty()) fail(how, "odd kNeedMore");
        if (framer.inMessage() != (framer.buffered() >= 2)) fail(how, "inMessage is wrong");
        if (framer.writable().empty()) fail(how, "needs more but has no room for it");
        break;
      case TcpFramer::Result::kBad: {
        if (f.error == TcpFramer::Error::kNone || !f.message.empty()) fail(how, "odd kBad");
        TcpFramer::Frame again = framer.next();
        if (again.result != TcpFramer::Result::kBad || again.error != f.error) {
          fail(how, "kBad did not last");
        }
        if (!framer.writable().empty() || framer.inMessage()) fail(how, "takes bytes after kBad");
        break;
      }
    }
    out.result = f.result;
    out.error = f.error;
    return;
  }
}

// Feeds `chunk` from a copy of exactly its size; false once the framer takes nothing (kBad).
bool feedChunk(TcpFramer& framer, std::span<const uint8_t> chunk, Outcome& out, const char* how) {
  Bytes copy(chunk.begin(), chunk.end());
  std::span<const uint8_t> left(copy);
  while (!left.empty()) {
    size_t took = framer.feed(left);
    if (took > left.size()) fail(how, "took more than it was given");
    left = left.subspan(took);
    drain(framer, out, how);
    if (took == 0) {
      if (out.result != TcpFramer::Result::kBad) fail(how, "took nothing while needing more");
      return false;
    }
  }
  return true;
}

// `size(i)` is the i-th chunk's size (0: whatever writable() offers, read-style only).
template <typename Size>
Outcome run(std::span<const uint8_t> stream, Size size, bool read_style, const char* how) {
  TcpFramer framer;
  Outcome out;
  size_t at = 0;
  for (size_t i = 0; at < stream.size(); ++i) {
    size_t n = std::min<size_t>(size(i), stream.size() - at);
    if (read_style) {
      std::span<uint8_t> room = framer.writable();
      if (room.empty()) {
        if (out.result != TcpFramer::Result::kBad) fail(how, "no room while needing more");
        break;
      }
      if (n == 0 || n > room.size()) n = std::min(room.size(), stream.size() - at);
      Bytes copy(stream.begin() + at, stream.begin() + at + n);
      std::memcpy(room.data(), copy.data(), n);
      framer.commit(n);
      at += n;
      drain(framer, out, how);
    } else {
      if (n == 0) n = std::min<size_t>(TcpFramer::kMaxFrame, stream.size() - at);
      if (!feedChunk(framer, stream.subspan(at, n), out, how)) break;
      at += n;
    }
  }
  if (stream.empty()) drain(framer, out, how);
  return out;
}

void expectSame(const Outcome& got, const Outcome& want, const char* how) {
  if (got.result != want.result || got.error != want.error) fail(how, "the end differs");
  if (got.messages.size() != want.messages.size()) fail(how, "the number of messages differs");
  for (size_t i = 0; i < got.messages.size(); ++i) {
    if (got.messages[i] != want.messages[i]) fail(how, "a message differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  const size_t k = std::min<size_t>(data[0] & 15, size - 1);
  const std::span<const uint8_t> plan(data + 1, k);
  const std::span<const uint8_t> stream(data + 1 + k, size - 1 - k);

  const Outcome want = reference(stream);
  expectSame(run(
                 stream, [&](size_t) { return stream.size(); }, false, "all at once"),
             want, "all at once");
  expectSame(run(
                 stream, [](size_t) { return size_t{1}; }, false, "one octet at a time"),
             want, "one octet at a time");
  if (!plan.empty()) {
    auto planned = [&](size_t i) { return size_t{plan[i % plan.size()]}; };
    expectSame(run(stream, planned, false, "in the plan's chunks"), want, "in the plan's chunks");
    expectSame(run(stream, planned, true, "as reads of the plan's sizes"), want,
               "as reads of the plan's sizes");
  }
  // Chunks of 1 to 600 octets from a generator seeded by the input: splits the plan's octets
  // cannot reach, past the initial buffer and across many prefixes.
  uint64_t seed = 0x9e3779b97f4a7c15ull ^ size;
  for (size_t i = 0; i < std::min<size_t>(size, 64); ++i)
    seed = (seed ^ data[i]) * 0x100000001b3ull;
  auto random = [seed](size_t i) mutable {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<size_t>(1 + (seed + i) % 600);
  };
  expectSame(run(stream, random, true, "as reads of random sizes"), want,
             "as reads of random sizes");
  return 0;
}
