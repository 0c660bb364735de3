// The top of the control thread: the daemon's io_context runs health checks, reloads, signals and
// the control endpoint, so an exception escaping any one handler must cost that handler only.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <string_view>

namespace understudy::control {

// Runs `io` until it is stopped or out of work, like io.run(). An exception thrown by a handler
// is logged at ERROR (naming `thread`) and the loop goes on with the next handler: Asio lets
// run() be called again after a handler threw, without a restart(). Returns how many were caught.
size_t runCatchingExceptions(boost::asio::io_context& io, std::string_view thread) noexcept;

}  // namespace understudy::control
