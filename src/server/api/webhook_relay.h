#pragma once
// WebhookRelay: hands the ledger's events to the webhook dispatcher on the elected replica alone
// (always this process on a single node), resuming where the last one stopped.
//
// The relay is a subscriber of the event hub, so it sees every replica's events in the one
// global order (ledger::positionOf). While it leads it keeps, in a ledger document
// (webhook-cursor/deliveries), the position up to which every delivery has finished
// (Dispatcher::oldestUnfinished). A replica that becomes the leader — after the last one died,
// or a single node restarted after kill -9 — subscribes from that position, so deliveries the
// last leader had queued or was retrying are made again: at least once, never dropped, with the
// same X-Netledger-Delivery id (a function of the subscription and the event), so receivers can
// drop the repeats. The cursor is written at most once a second, and only when it moved.
//
// tick() from one thread (the daemon's sweeper); the subscription's callback runs on the
// hub's publishers' threads and only queues.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "server/api/api.h"

namespace netledger::server {

class WebhookRelay {
 public:
  // `ctx` (its ledger and dispatcher) and `hub` must outlive the relay.
  WebhookRelay(ApiContext& ctx, EventHub& hub) : ctx_(ctx), hub_(hub) {}
  ~WebhookRelay() { stop(); }
  WebhookRelay(const WebhookRelay&) = delete;
  WebhookRelay& operator=(const WebhookRelay&) = delete;

  // Follows leadership: starts relaying from the stored cursor when `leading` and not yet
  // relaying, stops when no longer leading; while leading, stores the cursor when it moved.
  void tick(bool leading);
  // Stops relaying (the stored cursor stays where it was). Idempotent.
  void stop();

  // The position up to which every delivery has finished, as the relay knows it (0: none yet).
  std::uint64_t settled() const;

  static constexpr const char* kCursorKind = "webhook-cursor";
  static constexpr const char* kCursorKey = "deliveries";

 private:
  // The stored cursor; nullopt when no leader ever stored one.
  std::optional<std::uint64_t> storedCursor() const;
  void start();
  // Stores `at` as the cursor unless it did not move (`first`: store it anyway).
  void saveCursor(std::uint64_t at, bool first = false);

  ApiContext& ctx_;
  EventHub& hub_;
  std::uint64_t subscription_ = 0;         // the hub's id while relaying
  std::atomic<std::uint64_t> offered_{0};  // the last position handed to the dispatcher
  std::uint64_t saved_ = 0;                // the cursor last stored
  std::chrono::steady_clock::time_point last_save_{};
};

}  // namespace netledger::server
