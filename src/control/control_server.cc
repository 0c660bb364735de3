#include "understudy/control/control_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

#include "http_session.h"
#include "token.h"
#include "understudy/common/host_port.h"
#include "understudy/config/token_file.h"

namespace understudy::control {

namespace http = boost::beast::http;

namespace {

std::string listenText(const std::string& address, uint16_t port) {
  return hostPort(address, port);
}

// Answers a connection over a cap and closes it. The connection is fresh, so its send buffer is
// empty and one non-blocking write of a short answer never waits: the accept loop does not stall.
// A plain close would leave Prometheus or curl with "connection reset" and no reason.
void refuseConnection(boost::asio::ip::tcp::socket& socket, http::status status,
                      const std::string& message) {
  std::string body = nlohmann::json{{"error", message}}.dump() + "\n";
  std::string text = "HTTP/1.1 ";
  text += std::to_string(static_cast<unsigned>(status));
  text += " ";
  auto reason = http::obsolete_reason(status);
  text.append(reason.data(), reason.size());
  text +=
      "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: ";
  text += std::to_string(body.size());
  text += "\r\n\r\n";
  text += body;
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(boost::asio::buffer(text), ec);
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  // What the client sent already (a request, at most a few KiB) is read and dropped, so that the
  // close is a FIN and the answer is not lost to a reset. Bounded: a client that keeps sending
  // gets the reset.
  char drain[4096];
  for (int i = 0; i < 4 && socket.read_some(boost::asio::buffer(drain), ec) > 0; ++i) {
  }
  socket.close(ec);
}

// control.create_token: make the token file on first start. False (and logged) when it could
// not be made; true when it exists (made now or before).
bool ensureToken(const config::ControlConfig& c) {
  if (!c.create_token || c.token_file.empty()) return true;
  bool created = false;
  std::string error;
  if (!config::createTokenFile(c.token_file, &created, &error)) {
    spdlog::error("control: {}", error);
    return false;
  }
  if (created) {
    spdlog::info(
        "control: created a new token in {} (mode 0600); `understudy ctl -c CONFIG` "
        "reads it from there",
        c.token_file);
  }
  return true;
}

}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, Sources& sources,
                             const config::ControlConfig& config, ServerLimits limits)
    : io_(io),
      config_(config),
      acceptor_(io),
      report_timer_(io),
      core_(std::make_shared<Core>(sources, limits, config.max_connections_per_client,
                                   io.get_executor())) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  if (!config_.token_file.empty()) {
    std::string error;
    if (!ensureToken(config_)) throw std::runtime_error("control.token_file: cannot create it");
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
  core_->router.setHostCheck(
      HostCheck(config_.address, acceptor_.local_endpoint(ec).port(), config_.hostnames));
  if (core_->limits.local_clients_by_user && !core_->loopback.available()) {
    spdlog::info(
        "control: socket diagnostics (AF_NETLINK) unavailable: local clients are told apart by "
        "address only for control.max_connections_per_client");
  }
  doAccept();
  doReport();
}

void ControlServer::stop() {
  if (core_->stopped) return;
  core_->stopped = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  report_timer_.cancel();
  for (HttpSession* session : core_->sessions) session->close();
  // Sessions waiting for the health thread's answer to a write are let go of here (not while
  // iterating over `sessions`, which they leave as they go).
  auto awaiting = std::move(core_->awaiting);
  core_->awaiting.clear();
  awaiting.clear();
  core_->stats.report(ControlStats::Clock::now(), true);  // nothing counted goes unlogged
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
    boost::system::error_code remote_ec, local_ec;
    auto remote = socket.remote_endpoint(remote_ec);
    auto local = socket.local_endpoint(local_ec);
    if (remote_ec || local_ec) {
      socket.close(ec);  // gone already
      return doAccept();
    }
    Peer peer =
        peerOf(remote, core->limits.local_clients_by_user ? core->loopback.uid(local, remote)
                                                          : std::nullopt);
    auto open = core->per_client.find(peer.client);
    if (core->sessions.size() >= core->limits.max_connections) {
      std::string message = std::to_string(core->sessions.size());
      message += " connections are open, the endpoint's limit";
      refuseConnection(socket, http::status::service_unavailable, message);
      core->stats.refuse(Refusal::kGlobal, peer.client,
                         "refused a connection from " + peer.text + ": " + message);
    } else if (open != core->per_client.end() && open->second >= core->max_connections_per_client) {
      std::string message = std::to_string(open->second);
      message += " connections from ";
      message += peer.client;
      message += " are open (control.max_connections_per_client)";
      refuseConnection(socket, http::status::too_many_requests, message);
      core->stats.refuse(Refusal::kPerClient, peer.client,
                         "refused a connection from " + peer.text + ": " + message);
    } else {
      // Whatever a new connection throws (out of memory for its buffer, say) costs that
      // connection; the listener is re-armed below either way, or the endpoint would go deaf.
      try {
        std::make_shared<HttpSession>(std::move(socket), std::move(peer), core)->start();
      } catch (const std::exception& e) {
        spdlog::error("control: cannot serve a new connection: {}", e.what());
      }
    }
    doAccept();
  });
}

// Refusals held back by ControlStats are reported once per interval.
void ControlServer::doReport() {
  report_timer_.expires_after(core_->limits.report_interval);
  report_timer_.async_wait([this, core = core_](boost::system::error_code ec) {
    if (ec || core->stopped) return;  // `this` may be gone: touch nothing but `core`
    core->stats.report();
    doReport();
  });
}

void ControlServer::reconfigure(const config::ControlConfig& next) {
  if (!next.enabled || next.address != config_.address || next.port != config_.port) {
    spdlog::warn("reload: control settings (listen) changed; they take effect at the next restart");
  }
  // Connections already open stay; the new cap applies to the next ones.
  core_->max_connections_per_client = next.max_connections_per_client;
  config_.max_connections_per_client = next.max_connections_per_client;
  config_.hostnames = next.hostnames;
  boost::system::error_code ec;
  core_->router.setHostCheck(
      HostCheck(config_.address, acceptor_.local_endpoint(ec).port(), config_.hostnames));
  if (next.token_file.empty()) {
    if (!config_.token_file.empty())
      spdlog::warn("reload: control mutations disabled (no token_file)");
    core_->router.setToken(std::nullopt);
  } else {
    std::string error;
    ensureToken(next);  // create_token: made now if it was removed or newly configured
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
