// `notify:`: webhooks called on every health transition and every failed reload.
#include "loader.h"

namespace understudy::config::detail {

// notify: [ { url: https://..., format: generic|pagerduty, headers: {..}, routing_key: .. } ]
void Loader::loadNotify(const YAML::Node& node, std::vector<WebhookConfig>& hooks) {
  if (!expectList(node, "notify")) return;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string key = indexKey("notify", i);
    const YAML::Node& n = node[i];
    if (!expectMap(n, key)) continue;
    Fields f = fields(n, key, {"url", "format", "headers", "routing_key", "timeout", "retries"});
    WebhookConfig hook;
    hook.where = at(n);
    hook.key = key;
    bool ok = true;
    if (auto url = f.get("url")) {
      auto text = scalar(*url, joinKey(key, "url"));
      auto refused =
          text ? firstRefused(*text, [](unsigned char c) { return !isControl(c) && c != ' '; })
               : std::nullopt;
      if (text && !(text->rfind("http://", 0) == 0 || text->rfind("https://", 0) == 0)) {
        error(*url, joinKey(key, "url"), "webhook url must start with http:// or https://");
        ok = false;
      } else if (refused) {
        error(*url, joinKey(key, "url"),
              "webhook url contains " + describeChar(*refused) +
                  ": percent-encode it (a space is %20)");
        ok = false;
      } else if (text) {
        hook.url = *text;
      }
    } else {
      if (!f.given("url")) error(n, key, "missing required key 'url'");
      ok = false;
    }
    if (auto format = f.get("format")) {
      auto text = scalar(*format, joinKey(key, "format"));
      if (text && *text == "generic") {
        hook.format = WebhookConfig::Format::kGeneric;
      } else if (text && *text == "pagerduty") {
        hook.format = WebhookConfig::Format::kPagerDuty;
      } else if (text) {
        error(*format, joinKey(key, "format"),
              "unknown webhook format '" + *text + "' (expected generic or pagerduty)");
        ok = false;
      }
    }
    if (auto headers = f.get("headers"))
      loadHeaders(*headers, joinKey(key, "headers"), hook.headers);
    if (auto rk = f.get("routing_key")) {
      if (auto text = scalar(*rk, joinKey(key, "routing_key"))) hook.routing_key = *text;
    }
    if (hook.format == WebhookConfig::Format::kPagerDuty && hook.routing_key.empty()) {
      error(n, key, "a pagerduty webhook needs 'routing_key' (the Events v2 integration key)");
      ok = false;
    }
    if (auto timeout = f.get("timeout")) {
      if (auto d = duration(*timeout, joinKey(key, "timeout"), std::chrono::milliseconds(100),
                            std::chrono::milliseconds(60000))) {
        hook.timeout = *d;
      }
    }
    if (auto retries = f.get("retries")) {
      if (auto v = integer(*retries, joinKey(key, "retries"), 0, 20)) {
        hook.retries = static_cast<unsigned>(*v);
      }
    }
    if (ok) hooks.push_back(std::move(hook));
  }
}

}  // namespace understudy::config::detail
