#include "tcp_connection.h"

#include "tcp_server.h"
#include "understudy/query/answer.h"

namespace understudy::server {

namespace asio = boost::asio;

TcpConnection::TcpConnection(asio::ip::tcp::socket socket, TcpServer& server)
    : socket_(std::move(socket)), timer_(server.io_), server_(server) {}

void TcpConnection::start() {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  doNextQuery();
}

void TcpConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // Keep ourselves alive until pending handlers have run; the server drops its reference.
  auto self = shared_from_this();
  server_.remove(this);
}

void TcpConnection::closeWhenIdle() {
  closing_ = true;
  if (!busy_) close();
}

void TcpConnection::armTimer() {
  timer_.expires_after(server_.idle_timeout_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->close();  // RFC 7766 §6.2.3: the server closes idle connections
  });
}

void TcpConnection::doNextQuery() {
  // A loop, not a recursion: one read may bring thousands of queries that are all dropped.
  do {
    if (closing_) {
      close();
      return;
    }
    busy_ = false;
    armTimer();
  } while (takeQuery());
}

bool TcpConnection::takeQuery() {
  TcpFramer::Frame frame = framer_.next();
  switch (frame.result) {
    case TcpFramer::Result::kGood:
      busy_ = true;
      return !doWrite(frame.message);
    case TcpFramer::Result::kNeedMore:
      busy_ = framer_.inMessage();
      doRead();
      return false;
    case TcpFramer::Result::kBad:
      break;
  }
  close();  // a zero-length or sub-header frame cannot be a query: nothing to answer
  return false;
}

void TcpConnection::doRead() {
  std::span<uint8_t> room = framer_.writable();  // never empty after kNeedMore
  socket_.async_read_some(asio::buffer(room.data(), room.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->onRead(ec, n); });
}

void TcpConnection::onRead(const boost::system::error_code& ec, size_t n) {
  if (ec || closed_) {
    close();
    return;
  }
  framer_.commit(n);
  // The idle timeout runs on: a query must arrive whole within it, however it is cut up.
  if (takeQuery()) doNextQuery();
}

bool TcpConnection::doWrite(std::span<const uint8_t> message) {
  response_.resize(2 + query::kMaxResponseSize);
  query::AnswerInfo info;
  size_t n =
      query::answer(message, server_.reader_.get(), query::Transport::kTcp,
                    std::span<uint8_t>(response_.data() + 2, query::kMaxResponseSize), &info);
  server_.stats_.count(query::Transport::kTcp, n, info);
  if (n == 0) return false;  // dropped (e.g. a response sent to us)
  response_[0] = static_cast<uint8_t>(n >> 8);
  response_[1] = static_cast<uint8_t>(n);
  armTimer();  // the client must take the answer within the idle timeout too
  asio::async_write(socket_, asio::buffer(response_.data(), n + 2),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->onWrite(ec);
                    });
  return true;
}

void TcpConnection::onWrite(const boost::system::error_code& ec) {
  if (ec || closed_) {
    close();
    return;
  }
  doNextQuery();
}

}  // namespace understudy::server
