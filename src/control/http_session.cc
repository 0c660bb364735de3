#include "http_session.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "understudy/common/host_port.h"

namespace understudy::control {

namespace beast = boost::beast;
namespace http = boost::beast::http;

Peer peerOf(const boost::asio::ip::tcp::endpoint& ep, std::optional<uint32_t> uid) {
  auto a = ep.address();
  // An IPv4 client of a dual-stack listener is the same client as on an IPv4 listener.
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  Peer peer;
  peer.client = a.to_string();
  peer.text = hostPort(peer.client, ep.port());
  if (uid) {
    // A local user is one client whichever loopback address it connects from (127.0.0.2,
    // 127.0.0.3, ... would otherwise each get a cap of their own).
    peer.client = "local uid " + std::to_string(*uid);
    peer.text += " (uid " + std::to_string(*uid) + ")";
  }
  return peer;
}

Response HttpSession::internalError(const Request& request, std::string_view what) const {
  spdlog::error("control: {} {} from {} failed: {}", std::string(request.method_string()),
                std::string(request.target()), peer_.text, what);
  Response response{http::status::internal_server_error, request.version()};
  response.set(http::field::server, "understudy");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = nlohmann::json{{"error", "internal error"}}.dump() + "\n";
  response.prepare_payload();
  return response;
}

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, Peer peer,
                         std::shared_ptr<ControlServer::Core> core)
    : stream_(std::move(socket)),
      buffer_(core->limits.max_header + core->limits.max_body + 4096),
      reply_timer_(stream_.get_executor()),
      peer_(std::move(peer)),
      core_(std::move(core)) {
  core_->sessions.insert(this);
  ++core_->per_client[peer_.client];
  core_->stats.opened();
}

HttpSession::~HttpSession() {
  core_->sessions.erase(this);
  auto it = core_->per_client.find(peer_.client);
  if (it != core_->per_client.end() && --it->second == 0) core_->per_client.erase(it);
  core_->stats.closed();
}

void HttpSession::close() {
  boost::system::error_code ec;
  reply_timer_.cancel(ec);
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

void HttpSession::doWaitForRequest() {
  if (buffer_.size() > 0) return doReadHeader();  // pipelined: the next request is here already
  stream_.expires_after(core_->limits.idle_timeout);
  stream_.async_read_some(buffer_.prepare(1024),
                          [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                            self->onWaitForRequest(ec, bytes);
                          });
}

void HttpSession::onWaitForRequest(beast::error_code ec, size_t bytes) {
  if (core_->stopped) return;
  if (ec) {
    // An idle keep-alive connection closed by either side is normal, not a refusal.
    if (ec == beast::error::timeout) {
      spdlog::debug("control: closing idle connection from {}", peer_.text);
    }
    return;
  }
  buffer_.commit(bytes);
  doReadHeader();
}

void HttpSession::doReadHeader() {
  parser_.emplace();
  parser_->body_limit(core_->limits.max_body);
  parser_->header_limit(static_cast<uint32_t>(core_->limits.max_header));
  // One deadline for the whole header, however it trickles in (slowloris).
  stream_.expires_after(core_->limits.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->onReadHeader(ec); });
}

void HttpSession::onReadHeader(beast::error_code ec) {
  if (core_->stopped) return;
  if (ec) return readFailed(ec, "request header", core_->limits.header_timeout);
  if (parser_->is_done()) return respond();
  stream_.expires_after(core_->limits.timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->onReadBody(ec); });
}

void HttpSession::onReadBody(beast::error_code ec) {
  if (core_->stopped) return;
  if (ec) return readFailed(ec, "request body", core_->limits.timeout);
  respond();
}

void HttpSession::readFailed(beast::error_code ec, const char* what,
                             std::chrono::milliseconds deadline) {
  if (ec == http::error::end_of_stream) {
    return shutdown();
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    // The request is not read to its end: answer, then close rather than resynchronise.
    Response res{ec == http::error::body_limit ? http::status::payload_too_large
                                               : http::status::request_header_fields_too_large,
                 11};
    res.set(http::field::content_type, "application/json");
    res.body() = nlohmann::json{{"error", ec.message()}}.dump() + "\n";
    res.prepare_payload();
    return doWrite(std::move(res), true);
  }
  if (ec == beast::error::timeout) {
    std::string message = "closed the connection from ";
    message += peer_.text;
    message += ": ";
    message += what;
    message += " not received within ";
    message += std::to_string(deadline.count());
    message += " ms";
    core_->stats.refuse(Refusal::kTimeout, peer_.client, message);
    return;  // the stream closes when the last handler lets go of the session
  }
  if (ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof) {
    return;
  }
  Response res{http::status::bad_request, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = nlohmann::json{{"error", "malformed request: " + ec.message()}}.dump() + "\n";
  res.prepare_payload();
  doWrite(std::move(res), true);
}

void HttpSession::respond() {
  request_ = parser_->release();
  answering_ = true;
  core_->awaiting[this] = shared_from_this();
  std::weak_ptr<HttpSession> weak = weak_from_this();
  const unsigned number = served_ + 1;
  reply_timer_.expires_after(core_->limits.timeout);
  reply_timer_.async_wait([weak, number](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->core_->stopped) return;
    std::string what =
        std::string(self->request_.method_string()) + " " + std::string(self->request_.target());
    spdlog::error("control: {} from {}: the health thread did not answer within {} ms", what,
                  self->peer_.text, self->core_->limits.timeout.count());
    Response response{http::status::service_unavailable, self->request_.version()};
    response.set(http::field::server, "understudy");
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.body() =
        nlohmann::json{{"error", "not carried out in time: the daemon is busy; try again"}}.dump() +
        "\n";
    response.prepare_payload();
    self->answer(std::move(response), number);
  });
  // A bug in a route (or in what it reads) costs this response, never the control thread: the
  // client gets a 500, the log says which request failed, and the connection keeps serving.
  // The reply holds the session weakly: a write's reply travels through the health thread,
  // which must never hold (and so never destroy) a connection.
  try {
    core_->router.handle(request_, peer_, [weak, number](Response response) {
      if (auto self = weak.lock()) self->answer(std::move(response), number);
    });
  } catch (const std::exception& e) {
    answer(internalError(request_, e.what()), number);
  } catch (...) {
    answer(internalError(request_, "a non-standard exception"), number);
  }
}

void HttpSession::answer(Response response, unsigned request) {
  // Answered already (a timeout, then the reply), or the answer to an earlier request.
  if (!answering_ || request != served_ + 1 || core_->stopped) return;
  answering_ = false;
  boost::system::error_code ignored;
  reply_timer_.cancel(ignored);
  std::shared_ptr<HttpSession> self;
  if (auto it = core_->awaiting.find(this); it != core_->awaiting.end()) {
    self = std::move(it->second);  // alive until this returns
    core_->awaiting.erase(it);
  }
  spdlog::debug("control: {} {} from {} -> {}", std::string(request_.method_string()),
                std::string(request_.target()), peer_.text, response.result_int());
  ++served_;
  bool close_after = !request_.keep_alive() || served_ >= core_->limits.max_requests_per_connection;
  response.keep_alive(!close_after);
  doWrite(std::move(response), close_after);
}

void HttpSession::doWrite(Response response, bool close_after) {
  response_ = std::move(response);
  if (close_after) response_.keep_alive(false);
  stream_.expires_after(core_->limits.timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                      self->onWrite(close_after, ec);
                    });
}

void HttpSession::onWrite(bool close_after, beast::error_code ec) {
  if (core_->stopped) return;
  if (ec == beast::error::timeout) {
    std::string message = "closed the connection from ";
    message += peer_.text;
    message += ": response not read within ";
    message += std::to_string(core_->limits.timeout.count());
    message += " ms";
    core_->stats.refuse(Refusal::kTimeout, peer_.client, message);
  }
  if (ec) return;
  if (close_after) return shutdown();
  doWaitForRequest();
}

void HttpSession::shutdown() {
  boost::system::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace understudy::control
