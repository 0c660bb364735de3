#include "http_session.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

namespace understudy::control {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

std::string endpointText(const boost::asio::ip::tcp::endpoint& ep) {
  auto a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

}  // namespace

Response HttpSession::internalError(const Request& request, std::string_view what) const {
  spdlog::error("control: {} {} from {} failed: {}", std::string(request.method_string()),
                std::string(request.target()), peer_, what);
  Response response{http::status::internal_server_error, request.version()};
  response.set(http::field::server, "understudy");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = nlohmann::json{{"error", "internal error"}}.dump() + "\n";
  response.prepare_payload();
  return response;
}

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket,
                         std::shared_ptr<ControlServer::Core> core)
    : stream_(std::move(socket)),
      buffer_(core->limits.max_header + core->limits.max_body + 4096),
      core_(std::move(core)) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer") : endpointText(remote);
  core_->sessions.insert(this);
}

HttpSession::~HttpSession() {
  core_->sessions.erase(this);
}

void HttpSession::close() {
  boost::system::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

void HttpSession::doRead() {
  parser_.emplace();
  parser_->body_limit(core_->limits.max_body);
  parser_->header_limit(static_cast<uint32_t>(core_->limits.max_header));
  stream_.expires_after(core_->limits.timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
}

void HttpSession::onRead(beast::error_code ec) {
  if (core_->stopped) return;
  if (ec == http::error::end_of_stream) return shutdown();
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
  if (ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof) {
    return;  // the stream closes when the last handler lets go of the session
  }
  if (ec) {
    Response res{http::status::bad_request, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = nlohmann::json{{"error", "malformed request: " + ec.message()}}.dump() + "\n";
    res.prepare_payload();
    return doWrite(std::move(res), true);
  }
  Request request = parser_->release();
  Response response;
  // A bug in a route (or in what it reads) costs this response, never the control thread: the
  // client gets a 500, the log says which request failed, and the connection keeps serving.
  try {
    response = core_->router.handle(request, peer_);
  } catch (const std::exception& e) {
    response = internalError(request, e.what());
  } catch (...) {
    response = internalError(request, "a non-standard exception");
  }
  spdlog::debug("control: {} {} from {} -> {}", std::string(request.method_string()),
                std::string(request.target()), peer_, response.result_int());
  ++served_;
  bool close_after = !request.keep_alive() || served_ >= core_->limits.max_requests_per_connection;
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
  if (core_->stopped || ec) return;
  if (close_after) return shutdown();
  doRead();
}

void HttpSession::shutdown() {
  boost::system::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace understudy::control
