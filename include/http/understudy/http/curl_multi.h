#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

namespace understudy::http {

// curl_global_init, once per process however many users ask (the health probers, the webhooks):
// it must run before any other curl call, and it is not thread-safe. It also initialises OpenSSL.
void initCurlOnce();

// Drives one libcurl multi handle from an Asio io_context through the multi *socket* interface:
// curl names the sockets and timeout it cares about, Asio waits for them, and each readiness
// event becomes one curl_multi_socket_action. Thousands of transfers share one thread and no
// call ever blocks. (The pattern of curl's docs/examples/asiohiper.cpp and hiperfifo.c.)
//
// Curl owns every socket: we watch them through stream_descriptors that are release()d, never
// closed, when curl says CURL_POLL_REMOVE (curl calls that before it closes the fd, so a reused
// fd number is never confused with the old one).
//
// Always held by shared_ptr: Asio handlers keep only a weak_ptr, so a handler that runs after
// the owner is gone does nothing, and one that runs while a completion callback destroys the
// owner keeps the object alive until it returns.
class CurlMulti : public std::enable_shared_from_this<CurlMulti> {
 public:
  // The transfer's CURLcode. The easy handle is already detached and belongs to the caller again.
  using Finished = std::function<void(CURLcode)>;

  static std::shared_ptr<CurlMulti> create(boost::asio::io_context& io);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Starts `easy`; `finished` runs once, from the io_context, when curl completes it. Returns
  // false (and drops `finished`) if curl refuses the handle or after shutdown().
  bool add(CURL* easy, Finished finished);
  // Detaches `easy` without running its `finished`. A no-op for a handle we do not hold.
  void remove(CURL* easy);
  // Detaches every transfer and drops their `finished` uncalled; nothing runs afterwards.
  void shutdown();
  size_t size() const { return transfers_.size(); }

 private:
  struct Socket;

  explicit CurlMulti(boost::asio::io_context& io);

  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* multi, void* socket);
  static int onTimer(CURLM* multi, long timeout_ms, void* self);
  void watch(curl_socket_t fd, int what);
  void forget(curl_socket_t fd);
  void doWait(const std::shared_ptr<Socket>& socket, bool read);
  void onReady(const std::shared_ptr<Socket>& socket, bool read,
               const boost::system::error_code& ec);
  void onTimeout(const boost::system::error_code& ec);
  void act(curl_socket_t fd, int events);
  void collectFinished();

  boost::asio::io_context& io_;
  CURLM* multi_;
  boost::asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::unordered_map<CURL*, Finished> transfers_;
  bool shut_down_ = false;
};

}  // namespace understudy::http
