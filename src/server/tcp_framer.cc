#include "tcp_framer.h"

#include <algorithm>
#include <cstring>

namespace understudy::server {

namespace {

size_t lengthAt(const uint8_t* p) noexcept {
  return (size_t{p[0]} << 8) | p[1];
}

}  // namespace

TcpFramer::Frame TcpFramer::next() noexcept {
  if (error_ != Error::kNone) return {Result::kBad, {}, error_};
  const size_t have = end_ - start_;
  if (have < kLengthSize) return {};
  const size_t length = lengthAt(buffer_.data() + start_);
  // Judged on the prefix alone, before any of the message arrives: waiting for the rest of a
  // frame that cannot be a query would only hold the connection open.
  if (length < dns::kHeaderSize) {
    error_ = length == 0 ? Error::kZeroLength : Error::kShorterThanHeader;
    start_ = end_ = 0;  // nothing held is ever a message now
    return {Result::kBad, {}, error_};
  }
  if (have < kLengthSize + length) return {};
  std::span<const uint8_t> message(buffer_.data() + start_ + kLengthSize, length);
  start_ += kLengthSize + length;
  return {Result::kGood, message, Error::kNone};
}

std::span<uint8_t> TcpFramer::writable() {
  if (error_ != Error::kNone) return {};
  // What is left is at most one incomplete frame once next() said kNeedMore (a few octets,
  // usually), so moving it to the front is cheap and leaves the rest of the buffer free.
  if (start_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  // Room for the whole frame in progress: its length once the prefix is in, else the prefix.
  size_t need = kInitialCapacity;
  if (end_ >= kLengthSize) need = std::max(need, kLengthSize + lengthAt(buffer_.data()));
  if (buffer_.size() < need) buffer_.resize(need);
  return {buffer_.data() + end_, buffer_.size() - end_};
}

void TcpFramer::commit(size_t n) noexcept {
  if (error_ != Error::kNone) return;
  end_ += std::min(n, buffer_.size() - end_);
}

size_t TcpFramer::feed(std::span<const uint8_t> bytes) {
  std::span<uint8_t> room = writable();
  const size_t n = std::min(room.size(), bytes.size());
  if (n > 0) std::memcpy(room.data(), bytes.data(), n);
  commit(n);
  return n;
}

bool TcpFramer::inMessage() const noexcept {
  const size_t have = end_ - start_;
  return error_ == Error::kNone && have >= kLengthSize &&
         have < kLengthSize + lengthAt(buffer_.data() + start_);
}

}  // namespace understudy::server
