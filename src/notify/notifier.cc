#include "understudy/notify/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <optional>

#include "payload.h"
#include "understudy/http/curl_multi.h"
#include "webhook.h"

namespace understudy::notify {

namespace {

std::shared_ptr<http::CurlMulti> createMulti(boost::asio::io_context& io) {
  http::initCurlOnce();
  return http::CurlMulti::create(io);
}

// Event text comes from the configuration and from receivers' answers; invalid UTF-8 in it must
// cost a replacement character, not the notification (dump() would throw).
std::string serialize(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Notifier::Notifier(boost::asio::io_context& io, std::vector<config::WebhookConfig> hooks,
                   std::string instance, NotifierOptions options)
    : io_(io), instance_(std::move(instance)), options_(options), multi_(createMulti(io)) {
  setHooks(std::move(hooks));
}

Notifier::~Notifier() {
  // Detach every transfer first: their callbacks are dropped uncalled, then the hooks (which own
  // the easy handles) go.
  multi_->shutdown();
  hooks_.clear();
  retired_.clear();
}

void Notifier::setHooks(std::vector<config::WebhookConfig> hooks) {
  pruneRetired();
  std::vector<std::shared_ptr<Webhook>> next;
  next.reserve(hooks.size());
  for (auto& config : hooks) {
    auto same = std::find_if(hooks_.begin(), hooks_.end(), [&](const auto& hook) {
      return hook != nullptr && hook->sameAs(config);
    });
    if (same != hooks_.end()) {
      next.push_back(std::move(*same));  // leaves a null behind, so it is not matched twice
    } else {
      next.push_back(std::make_shared<Webhook>(io_, multi_, std::move(config), options_));
    }
  }
  for (auto& old : hooks_) {
    if (old == nullptr) continue;
    old->retire();
    if (!old->idle()) retired_.push_back(std::move(old));
  }
  hooks_ = std::move(next);
}

void Notifier::pruneRetired() {
  std::erase_if(retired_, [](const auto& hook) { return hook->idle(); });
}

template <typename Event>
void Notifier::dispatch(const Event& event) {
  // Called from the failover code on the control thread: nothing may escape into it.
  try {
    pruneRetired();
    std::optional<std::string> generic;  // one body shared by every generic hook
    const std::string what = describe(event);
    for (const auto& hook : hooks_) {
      const config::WebhookConfig& config = hook->config();
      if (config.format == config::WebhookConfig::Format::kPagerDuty) {
        auto body = pagerDutyBody(event, instance_, config.routing_key);
        if (body) hook->enqueue({serialize(*body), what});
      } else {
        if (!generic) generic = serialize(genericBody(event, instance_));
        hook->enqueue({*generic, what});
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("notify: {} not sent: {}", describe(event), e.what());
  }
}

void Notifier::onHealth(const failover::HealthEvent& event) {
  dispatch(event);
}
void Notifier::onAnswer(const failover::AnswerEvent& event) {
  dispatch(event);
}
void Notifier::onReloadFailed(const failover::ReloadFailedEvent& event) {
  dispatch(event);
}

std::vector<HookStats> Notifier::stats() const {
  std::vector<HookStats> stats;
  stats.reserve(hooks_.size());
  for (const auto& hook : hooks_) stats.push_back(hook->stats());
  return stats;
}

size_t Notifier::pending() const {
  size_t total = 0;
  for (const auto& hook : hooks_) total += hook->stats().queued;
  for (const auto& hook : retired_) total += hook->stats().queued;
  return total;
}

}  // namespace understudy::notify
