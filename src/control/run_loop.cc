#include "understudy/control/run_loop.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace understudy::control {

size_t runCatchingExceptions(boost::asio::io_context& io, std::string_view thread) noexcept {
  size_t caught = 0;
  while (true) {
    try {
      io.run();
      return caught;
    } catch (const std::exception& e) {
      ++caught;
      // Whatever that handler would have scheduled next (a probe timer, a reply) is lost; the
      // rest of the thread's work goes on.
      spdlog::error("{} thread: a handler threw: {}; carrying on without it", thread, e.what());
    } catch (...) {
      ++caught;
      spdlog::error("{} thread: a handler threw a non-standard exception; carrying on without it",
                    thread);
    }
  }
}

}  // namespace understudy::control
