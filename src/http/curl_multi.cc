#include "understudy/http/curl_multi.h"

#include <mutex>

namespace understudy::http {

namespace asio = boost::asio;

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlMulti::Socket {
  Socket(asio::io_context& io, curl_socket_t fd) : descriptor(io, fd), fd(fd) {}

  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  int wanted = CURL_POLL_NONE;  // what curl last asked for
  bool reading = false;         // a wait_read is outstanding
  bool writing = false;         // a wait_write is outstanding
  bool removed = false;         // curl is done with it: late handlers must not touch curl
};

std::shared_ptr<CurlMulti> CurlMulti::create(asio::io_context& io) {
  return std::shared_ptr<CurlMulti>(new CurlMulti(io));
}

CurlMulti::CurlMulti(asio::io_context& io) : io_(io), multi_(curl_multi_init()), timer_(io) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::onSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::onTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() {
  shutdown();
  // Any connection curl still caches is closed here; onSocket() only forgets it now.
  curl_multi_cleanup(multi_);
  for (auto& [fd, socket] : sockets_) {
    boost::system::error_code ignored;
    socket->removed = true;
    socket->descriptor.cancel(ignored);
    socket->descriptor.release();
  }
}

bool CurlMulti::add(CURL* easy, Finished finished) {
  if (shut_down_ || transfers_.count(easy) != 0) return false;
  // Registered first: curl_multi_add_handle calls onTimer(), never onSocket(), so no callback
  // can find the transfer half-registered.
  transfers_.emplace(easy, std::move(finished));
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    transfers_.erase(easy);
    return false;
  }
  return true;
}

void CurlMulti::remove(CURL* easy) {
  auto it = transfers_.find(easy);
  if (it == transfers_.end()) return;
  // Move the callback out before curl runs any callback of its own during the removal.
  Finished dropped = std::move(it->second);
  transfers_.erase(it);
  curl_multi_remove_handle(multi_, easy);
}

void CurlMulti::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  auto transfers = std::move(transfers_);
  transfers_.clear();
  for (auto& [easy, finished] : transfers) curl_multi_remove_handle(multi_, easy);
  // Dropping the callbacks may free what owns the easy handles; curl no longer refers to them.
  transfers.clear();
  timer_.cancel();
}

int CurlMulti::onSocket(CURL*, curl_socket_t fd, int what, void* multi, void*) {
  auto* self = static_cast<CurlMulti*>(multi);
  if (what == CURL_POLL_REMOVE) {
    self->forget(fd);
  } else {
    self->watch(fd, what);
  }
  return 0;
}

int CurlMulti::onTimer(CURLM*, long timeout_ms, void* multi) {
  auto* self = static_cast<CurlMulti*>(multi);
  if (timeout_ms < 0) {
    self->timer_.cancel();
    return 0;
  }
  // Even a 0 ms timeout goes through the timer: curl forbids calling socket_action from inside
  // its own callbacks.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait([weak = self->weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock()) self->onTimeout(ec);
  });
  return 0;
}

void CurlMulti::watch(curl_socket_t fd, int what) {
  if (shut_down_) return;
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) {
    it = sockets_.emplace(fd, std::make_shared<Socket>(io_, fd)).first;
  }
  const std::shared_ptr<Socket>& socket = it->second;
  socket->wanted = what;
  if ((what & CURL_POLL_IN) && !socket->reading) doWait(socket, true);
  if ((what & CURL_POLL_OUT) && !socket->writing) doWait(socket, false);
  // A direction curl no longer wants may still have a wait outstanding; onReady() ignores it
  // rather than cancelling here, which would also abort the direction curl still wants.
}

void CurlMulti::forget(curl_socket_t fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  std::shared_ptr<Socket> socket = std::move(it->second);
  sockets_.erase(it);
  socket->removed = true;
  // release() aborts the outstanding waits and deregisters the fd from the reactor, leaving it
  // open: curl closes it right after this callback returns.
  socket->descriptor.release();
}

void CurlMulti::doWait(const std::shared_ptr<Socket>& socket, bool read) {
  (read ? socket->reading : socket->writing) = true;
  auto type =
      read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write;
  socket->descriptor.async_wait(
      type, [weak = weak_from_this(), socket, read](const boost::system::error_code& ec) {
        (read ? socket->reading : socket->writing) = false;
        if (socket->removed) return;
        if (auto self = weak.lock()) self->onReady(socket, read, ec);
      });
}

void CurlMulti::onReady(const std::shared_ptr<Socket>& socket, bool read,
                        const boost::system::error_code& ec) {
  if (shut_down_ || ec == asio::error::operation_aborted) return;
  int wanted_bit = read ? CURL_POLL_IN : CURL_POLL_OUT;
  if (!(socket->wanted & wanted_bit)) return;  // stale wait from before curl changed its mind
  int events = ec ? CURL_CSELECT_ERR : (read ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
  act(socket->fd, events);
  // curl may have removed the socket or changed what it wants during the action; re-arm only
  // what it still wants and is not already waited for (watch() may have re-armed it already).
  if (socket->removed || shut_down_) return;
  if ((socket->wanted & wanted_bit) && !(read ? socket->reading : socket->writing)) {
    doWait(socket, read);
  }
}

void CurlMulti::onTimeout(const boost::system::error_code& ec) {
  if (ec || shut_down_) return;
  act(CURL_SOCKET_TIMEOUT, 0);
}

void CurlMulti::act(curl_socket_t fd, int events) {
  // A completion callback may destroy our owner; stay alive until this call returns.
  auto keep_alive = shared_from_this();
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  collectFinished();
}

void CurlMulti::collectFinished() {
  int queued = 0;
  while (!shut_down_) {
    CURLMsg* message = curl_multi_info_read(multi_, &queued);
    if (message == nullptr) break;
    if (message->msg != CURLMSG_DONE) continue;
    // The message is invalid once its handle is removed: copy what we need first.
    CURL* easy = message->easy_handle;
    CURLcode result = message->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) {
      curl_multi_remove_handle(multi_, easy);
      continue;
    }
    Finished finished = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    // May add new transfers or shut us down; both are safe between info_read calls.
    finished(result);
  }
}

}  // namespace understudy::http
