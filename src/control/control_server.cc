#include "understudy/control/control_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <stdexcept>

#include "http_session.h"
#include "token.h"

namespace understudy::control {

namespace {

std::string listenText(const std::string& address, uint16_t port) {
  std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  return host + ":" + std::to_string(port);
}

}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, Sources& sources,
                             const config::ControlConfig& config, ServerLimits limits)
    : io_(io), config_(config), acceptor_(io), core_(std::make_shared<Core>(sources, limits)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  if (!config_.token_file.empty()) {
    std::string error;
    auto token = readTokenFile(config_.token_file, &error);
    if (!token) throw std::runtime_error("control.token_file: " + error);
    core_->router.setToken(std::move(*token));
  }
  const std::string where = listenText(config_.address, config_.port);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(config_.address, ec);
  if (ec) throw std::runtime_error("control: invalid listen address " + where);
  boost::asio::ip::tcp::endpoint endpoint(address, config_.port);
  auto fail = [&](const char* step) {
    throw std::runtime_error("control: cannot " + std::string(step) + " " + where + ": " +
                             ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec)) fail("open a socket for");
  if (acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec)) fail("configure");
  if (acceptor_.bind(endpoint, ec)) fail("listen on");
  if (acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec)) fail("listen on");
  doAccept();
}

void ControlServer::stop() {
  if (core_->stopped) return;
  core_->stopped = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (HttpSession* session : core_->sessions) session->close();
}

std::string ControlServer::boundAddress() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  if (ec) return listenText(config_.address, config_.port);
  return listenText(ep.address().to_string(), ep.port());
}

void ControlServer::doAccept() {
  acceptor_.async_accept(io_, [this, core = core_](boost::system::error_code ec,
                                                   boost::asio::ip::tcp::socket socket) {
    if (core->stopped) return;  // `this` may be gone: touch nothing but `core`
    if (ec) {
      // Out of descriptors and the like: wait a little instead of spinning on the error.
      spdlog::warn("control: accept failed: {}", ec.message());
      auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(100));
      timer->async_wait([this, core, timer](boost::system::error_code) {
        if (!core->stopped) doAccept();
      });
      return;
    }
    if (core->sessions.size() >= core->limits.max_connections) {
      spdlog::debug("control: {} connections open, closing a new one", core->sessions.size());
      socket.close(ec);
    } else {
      // Whatever a new connection throws (out of memory for its buffer, say) costs that
      // connection; the listener is re-armed below either way, or the endpoint would go deaf.
      try {
        std::make_shared<HttpSession>(std::move(socket), core)->start();
      } catch (const std::exception& e) {
        spdlog::error("control: cannot serve a new connection: {}", e.what());
      }
    }
    doAccept();
  });
}

void ControlServer::reconfigure(const config::ControlConfig& next) {
  if (!next.enabled || next.address != config_.address || next.port != config_.port) {
    spdlog::warn("reload: control settings (listen) changed; they take effect at the next restart");
  }
  if (next.token_file.empty()) {
    if (!config_.token_file.empty())
      spdlog::warn("reload: control mutations disabled (no token_file)");
    core_->router.setToken(std::nullopt);
  } else {
    std::string error;
    auto token = readTokenFile(next.token_file, &error);
    if (!token) {
      spdlog::error("reload: control.token_file: {}; keeping the previous token", error);
      return;
    }
    core_->router.setToken(std::move(*token));
  }
  config_.token_file = next.token_file;
}

}  // namespace understudy::control
