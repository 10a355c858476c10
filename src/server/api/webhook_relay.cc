#include "server/api/webhook_relay.h"

#include <boost/json.hpp>

#include "server/events/event_hub.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace json = boost::json;

std::optional<std::uint64_t> WebhookRelay::storedCursor() const {
  auto d = ctx_.ledger.document(kCursorKind, kCursorKey);
  if (!d) return std::nullopt;
  json::error_code ec;
  auto v = json::parse(d->body, ec);
  const json::value* p = !ec && v.is_object() ? v.get_object().if_contains("position") : nullptr;
  if (p != nullptr && p->is_uint64()) return p->as_uint64();
  if (p != nullptr && p->is_int64() && p->as_int64() >= 0)
    return static_cast<std::uint64_t>(p->as_int64());
  return std::nullopt;
}

void WebhookRelay::tick(bool leading) {
  if (ctx_.webhooks == nullptr) return;
  if (!leading) {
    stop();
    return;
  }
  if (subscription_ == 0) {
    start();
    return;
  }
  if (std::chrono::steady_clock::now() - last_save_ >= std::chrono::seconds(1)) {
    saveCursor(settled());
  }
}

void WebhookRelay::start() {
  // From where the last leader's deliveries had all finished. The first leader ever starts
  // from now (nothing was owed before) and stores that at once, so a successor never has to
  // guess.
  auto stored = storedCursor();
  const std::uint64_t from = stored ? *stored : hub_.lastPosition();
  saved_ = stored ? from : 0;
  offered_ = from;
  subscription_ = hub_.subscribe(from, [this](const ledger::EventRecord* e) {
    if (e == nullptr) return true;  // a keep-alive
    const ledger::EventRecord* one[] = {e};
    publishToWebhooks(ctx_, one);
    offered_ = ledger::positionOf(*e);
    return true;
  });
  if (!stored) saveCursor(from, true);
}

std::uint64_t WebhookRelay::settled() const {
  // Read the offered position first: a delivery queued after the read has a higher position.
  const std::uint64_t offered = offered_.load();
  auto oldest = ctx_.webhooks->oldestUnfinished();
  return oldest ? std::min(offered, *oldest - 1) : offered;
}

void WebhookRelay::saveCursor(std::uint64_t at, bool first) {
  if (at <= saved_ && !first) return;
  ledger::DocumentRecord d;
  d.kind = kCursorKind;
  d.key = kCursorKey;
  d.body = json::serialize(json::object{{"position", at}});
  // Bookkeeping, not worth an audit event; a leader's write is fenced on its leader key.
  if (ctx_.ledger.putDocument(ledger::Actor::system("webhooks"), std::move(d), "", "").isOk()) {
    saved_ = at;
    last_save_ = std::chrono::steady_clock::now();
  }
}

void WebhookRelay::stop() {
  if (subscription_ == 0) return;
  hub_.unsubscribe(subscription_);
  subscription_ = 0;
}

}  // namespace netledger::server
