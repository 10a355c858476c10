#pragma once
// Webhooks: ledger events delivered as signed HTTP POSTs to subscribers' URLs.
//
// The dispatcher sits behind the ledger's commit thread, so publish() never waits for the
// network: it only queues. Deliveries run asynchronously on a few I/O threads; a receiver that
// is slow, down or never answers costs one socket and its timeout, never a thread, so it cannot
// delay deliveries to anyone else.
//
// Delivery contract (what a receiver sees):
//   POST <url>
//   Content-Type: application/json
//   User-Agent: netledgerd
//   X-Netledger-Event: <event type>
//   X-Netledger-Delivery: <delivery id>     (the same on every retry of one delivery, and for
//                                            one event on every replica: see publish())
//   X-Netledger-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed by the secret>
// 2xx is success. No response (connection error, timeout), 5xx, 408 and 429 are retried with
// exponential backoff (initial_backoff * 2^(attempt-1), capped at max_backoff, jittered down by
// up to half so receivers recovering from an outage are not hit in lockstep; a Retry-After in
// seconds on 429/503 lengthens the wait, still capped), up to max_attempts in all. Anything
// else (other 4xx, 3xx: redirects are not followed) fails at once.
//
// Ordering: at most one delivery per subscription is in flight, and new deliveries start in
// publish order, so a healthy receiver sees events in order. A delivery waiting to be retried
// does not hold back the ones after it (a dead receiver must not stall its own queue for the
// whole backoff either), so after a failure order is best effort; receivers dedupe and order by
// the event id in the body.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace netledger::webhooks {

struct Subscription {
  std::string id;
  std::string url;  // http:// or https:// (see validateUrl)
  std::string secret;
  // Event type filters: "conflict.opened" (exact), "binding.*" (every type starting with
  // "binding."), "*" (everything). An empty list matches nothing.
  std::vector<std::string> events;
  bool active = true;
};

// One attempt (or a drop) in a subscription's delivery log.
struct Delivery {
  std::uint64_t id = 0;  // the delivery (shared by its attempts): X-Netledger-Delivery
  std::string webhook_id, event_type, event_id;
  int attempt = 0;           // 1-based; 0 for a delivery dropped before any attempt
  std::int64_t time_ms = 0;  // when the attempt started (Unix epoch, milliseconds)
  unsigned status = 0;       // HTTP status; 0: no response
  std::string error;         // why it did not succeed; empty when delivered
  double duration_ms = 0;
  std::string outcome;  // "delivered" | "retrying" | "failed" | "dropped"
};

struct Options {
  // Deliveries not yet finished (waiting, in flight or waiting for a retry) across all
  // subscriptions; beyond it new deliveries are dropped.
  std::size_t max_queue = 10000;
  int max_attempts = 8;
  std::chrono::milliseconds initial_backoff{1000}, max_backoff{300000}, timeout{5000};
  // I/O threads. Deliveries are asynchronous, so this bounds CPU, not concurrency.
  int workers = 2;
  std::size_t log_per_webhook = 200;  // newest attempts kept per subscription
  // https without certificate verification. For tests only.
  bool insecure_tls = false;
  // PEM file of extra trusted CA certificates, on top of the system's.
  std::string ca_file;
};

struct Stats {
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;   // gave up: a final error or attempts exhausted
  std::uint64_t retries = 0;  // attempts scheduled again after a retryable failure
  // Abandoned without a final answer: queue full, subscription removed or deactivated with
  // deliveries pending, dispatcher stopped.
  std::uint64_t dropped = 0;
  std::size_t queued = 0;  // not finished yet (waiting, in flight, waiting for a retry)
};

// Whether an event type matches one filter: exact, "prefix.*" or "*".
bool eventMatches(std::string_view filter, std::string_view type);
// "sha256=<hex HMAC-SHA256 of body keyed by secret>": the X-Netledger-Signature value.
std::string signatureHeader(std::string_view secret, std::string_view body);

// For the API: invalid_argument naming the problem unless `url` is an absolute http or https
// URL with a host (no user info, no fragment).
Status validateUrl(std::string_view url);
// For the API: invalid_argument unless `filter` is "*", "prefix.*" or an exact type made of
// letters, digits, '.', '_' and '-'.
Status validateFilter(std::string_view filter);

// Time: retry due times and the log's timestamps are the Clock's. The scheduler thread sleeps
// (in real time) until the next retry is due by the Clock; with a FakeClock a test moves the
// clock and calls runDue() instead of waiting. Network timeouts and durations are real time.
class Dispatcher {
 public:
  // `clock` must outlive the dispatcher.
  explicit Dispatcher(Options options = {}, Clock& clock = SystemClock::instance());
  ~Dispatcher();  // stops
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts the I/O threads and the scheduler; deliveries published before start() wait for it.
  // Idempotent; may follow stop().
  void start();
  // Returns within a bounded time (not waiting for receivers): deliveries in flight are
  // abandoned, and every unfinished delivery is counted and logged as "dropped". Idempotent.
  // Must not be called from a delivery thread.
  void stop();

  // Starts now every delivery that may go at the clock's now (a fresh one, or a retry whose
  // time has come, one per subscription with nothing in flight), as the scheduler does when it
  // wakes; returns how many it started. For tests that move a FakeClock. Between start() and
  // stop(), not concurrently with stop().
  std::size_t runDue();
  // When the next retry is due by the clock (the earliest of the subscriptions with nothing in
  // flight); nullopt when no retry is waiting for its time. Thread-safe.
  std::optional<TimePoint> nextRetryDue() const;

  // Adds or replaces a subscription by id. Pending deliveries follow the new URL and secret;
  // deactivating drops them. The URL is checked when a delivery is made: an invalid one fails
  // that delivery (check with validateUrl first).
  void upsert(Subscription s);
  // Removes a subscription, its pending deliveries (counted as dropped) and its log. Unknown
  // ids are ignored.
  void remove(const std::string& id);

  // Never blocks the caller (called from the ledger's commit thread): enqueues one delivery
  // per active matching subscription; when the queue is full the delivery is dropped and
  // counted (and logged as "dropped"). `position`, the event's place in the ledger's order
  // (0: none), makes the delivery id a function of the subscription, type and position, the
  // same whichever replica or process delivers it, and is what oldestUnfinished() reports.
  // Thread-safe.
  void publish(const std::string& type, const std::string& event_id, const std::string& body,
               std::uint64_t position = 0);
  // The lowest position among deliveries not finished yet (waiting, in flight or waiting for a
  // retry); nullopt when none is. Everything published before it is delivered, failed or
  // dropped: where a successor resumes. Thread-safe.
  std::optional<std::uint64_t> oldestUnfinished() const;

  // Whether some active subscription's filters match `type`: lets the caller skip building
  // bodies nobody would receive. Thread-safe.
  bool wants(std::string_view type) const;

  // The subscription's newest `limit` log entries, newest first; empty for an unknown id.
  std::vector<Delivery> deliveries(const std::string& webhook_id, std::size_t limit) const;
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::webhooks
