#pragma once
// EventHub: the ledger's committed events, fanned out to live subscribers (the server-sent
// event stream) with resume. The ledger's event listener calls publish() on its committer
// thread; subscribers must only queue (an SSE StreamWriter does), never block.
//
// Order and resume (Last-Event-ID) are by the event's position (ledger::positionOf: its seq on a
// single node, its place in etcd's revisions on replicas, so every replica serves one order).
// The hub keeps the most recent events in a ring; a subscriber asking for events after a
// position older than the ring gets them from the store first, then the ring, then live ones,
// in order with no gap and no repeat.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <span>

#include "ledger/event_log.h"
#include "ledger/model.h"

namespace netledger::server {

class EventHub {
 public:
  // Called with each event, or with nullptr for a keep-alive (heartbeat()). Returns false to
  // unsubscribe (the client went away).
  using Subscriber = std::function<bool(const ledger::EventRecord*)>;

  // `log` (the Ledger: events older than the ring) must outlive the hub. `last_position`: the
  // position of the last event already in the store when the hub starts.
  EventHub(const ledger::EventLog& log, std::uint64_t last_position,
           std::size_t ring_size = 10'000);

  // Called with each durable commit's events, in position order (the ledger's event listener).
  void publish(std::span<const ledger::EventRecord* const> events);

  // Delivers every event with position > `after` (none of the past when 0), then live ones, to
  // `subscriber` until it returns false or unsubscribe(). Returns the subscription's id.
  // Thread-safe; the replay runs on the caller's thread.
  std::uint64_t subscribe(std::uint64_t after, Subscriber subscriber);
  void unsubscribe(std::uint64_t id);

  // Calls every subscriber with nullptr (a keep-alive), dropping those that return false.
  void heartbeat();

  std::size_t subscribers() const;
  std::uint64_t lastPosition() const;

 private:
  const ledger::EventLog& log_;
  const std::size_t ring_size_;
  mutable std::mutex mu_;
  std::deque<ledger::EventRecord> ring_;
  std::uint64_t last_position_ = 0;
  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace netledger::server
