#include "reload_worker.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <mutex>
#include <system_error>
#include <thread>

namespace understudy::daemon {

namespace {

std::atomic<size_t> g_threads_running{0};

}  // namespace

// What a job thread shares with the worker. The thread holds it by shared_ptr, so it outlives
// the worker; `io` and `owner` are cleared (under the mutex) when the worker goes.
struct ReloadWorker::Mailbox {
  std::mutex mutex;
  boost::asio::io_context* io = nullptr;
  ReloadWorker* owner = nullptr;  // read only on the io_context's thread
  std::atomic<uint64_t> wanted{0};
  std::atomic<size_t> running{0};
};

ReloadWorker::ReloadWorker(boost::asio::io_context& io)
    : io_(io), mailbox_(std::make_shared<Mailbox>()), timer_(io) {
  mailbox_->io = &io_;
  mailbox_->owner = this;
}

ReloadWorker::~ReloadWorker() {
  std::lock_guard lock(mailbox_->mutex);
  mailbox_->io = nullptr;
  mailbox_->owner = nullptr;
  mailbox_->wanted = 0;
}

size_t ReloadWorker::threadsRunning() {
  return g_threads_running.load();
}

size_t ReloadWorker::abandonedRunning() const {
  size_t running = mailbox_->running.load();
  return running - std::min<size_t>(running, busy() ? 1 : 0);
}

void ReloadWorker::abandon() {
  if (current_ == 0) return;
  current_ = 0;
  mailbox_->wanted = 0;
  timer_.cancel();
  ++abandoned_total_;
}

ReloadWorker::Start ReloadWorker::start(Job job, std::chrono::milliseconds timeout,
                                        std::function<void()> on_timeout) {
  if (current_ != 0) return Start::kBusy;
  if (mailbox_->running.load() >= kMaxAbandonedRunning) return Start::kTooManyStuck;
  const uint64_t id = ++next_id_;
  current_ = id;
  mailbox_->wanted = id;
  ++mailbox_->running;
  ++g_threads_running;
  try {
    std::thread([mailbox = mailbox_, id, job = std::move(job), on_timeout]() mutable {
      {
        const auto started = std::chrono::steady_clock::now();
        Finish finish;
        try {
          finish = job();
        } catch (...) {
          finish = nullptr;  // no result: reported like a timeout, never applied
        }
        job = nullptr;  // whatever it captured goes here, off the control thread
        if (mailbox->wanted.load() == id) {
          std::lock_guard lock(mailbox->mutex);
          if (mailbox->io != nullptr) {
            boost::asio::post(*mailbox->io, [mailbox, id, finish = std::move(finish),
                                             on_timeout = std::move(on_timeout)]() mutable {
              ReloadWorker* self = mailbox->owner;
              // Abandoned between the post and now: drop the result here.
              if (self == nullptr || self->current_ != id) return;
              self->current_ = 0;
              mailbox->wanted = 0;
              self->timer_.cancel();
              if (finish) {
                finish();
              } else if (on_timeout) {
                on_timeout();
              }
            });
          }
        } else {
          auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started);
          spdlog::warn("reload: an abandoned reload finished after {} ms; its result is dropped",
                       took.count());
        }
        // An unwanted result (a whole compiled configuration) is freed here, on this thread.
      }
      --mailbox->running;
      --g_threads_running;
    }).detach();
  } catch (const std::system_error&) {
    --mailbox_->running;
    --g_threads_running;
    current_ = 0;
    mailbox_->wanted = 0;
    throw;
  }
  timer_.expires_after(timeout);
  timer_.async_wait(
      [this, id, on_timeout = std::move(on_timeout)](const boost::system::error_code& ec) {
        // A cancelled wait may run after the worker is gone: check ec before touching `this`.
        if (ec || current_ != id) return;
        abandon();
        if (on_timeout) on_timeout();
      });
  return Start::kStarted;
}

}  // namespace understudy::daemon
