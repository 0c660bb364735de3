#include "udp_server.h"

namespace understudy::server {

UdpServer::UdpServer(boost::asio::io_context&, boost::asio::ip::udp::socket socket,
                     zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats)
    : socket_(std::move(socket)), reader_(reader), stats_(stats) {
  // Replies go out with a non-blocking send: a full socket buffer drops the reply (the client
  // retries) instead of stalling every other query on this thread.
  socket_.non_blocking(true);
}

void UdpServer::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void UdpServer::doReceive() {
  socket_.async_receive_from(
      boost::asio::buffer(request_), remote_,
      [this](const boost::system::error_code& ec, size_t size) { onReceive(ec, size); });
}

void UdpServer::onReceive(const boost::system::error_code& ec, size_t size) {
  if (ec == boost::asio::error::operation_aborted || !socket_.is_open()) return;
  if (!ec) {
    query::AnswerInfo info;
    size_t n = query::answer(std::span<const uint8_t>(request_.data(), size), reader_.get(),
                             query::Transport::kUdp, std::span<uint8_t>(response_), &info);
    stats_.count(query::Transport::kUdp, n, info);
    if (n > 0) {
      boost::system::error_code send_ec;
      socket_.send_to(boost::asio::buffer(response_.data(), n), remote_, 0, send_ec);
    }
  }
  doReceive();
}

}  // namespace understudy::server
