#include "server/events/event_hub.h"

#include <vector>

namespace netledger::server {

EventHub::EventHub(const ledger::EventLog& log, std::uint64_t last_position, std::size_t ring_size)
    : log_(log), ring_size_(ring_size == 0 ? 1 : ring_size), last_position_(last_position) {}

void EventHub::publish(std::span<const ledger::EventRecord* const> events) {
  std::lock_guard lock(mu_);
  for (const ledger::EventRecord* e : events) {
    const std::uint64_t position = ledger::positionOf(*e);
    if (position <= last_position_) continue;  // already seen (never expected; keeps order strict)
    last_position_ = position;
    ring_.push_back(*e);
    if (ring_.size() > ring_size_) ring_.pop_front();
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      it = it->second(e) ? std::next(it) : subscribers_.erase(it);
    }
  }
}

std::uint64_t EventHub::subscribe(std::uint64_t after, Subscriber subscriber) {
  std::uint64_t delivered = after;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (after == 0) delivered = last_position_;
      const std::uint64_t ring_first =
          ring_.empty() ? last_position_ + 1 : ledger::positionOf(ring_.front());
      if (delivered + 1 >= ring_first) {
        // The ring covers the rest: replay it and go live, atomically with respect to publish.
        for (const auto& e : ring_) {
          if (ledger::positionOf(e) <= delivered) continue;
          if (!subscriber(&e)) return 0;
        }
        std::uint64_t id = next_id_++;
        subscribers_.emplace(id, std::move(subscriber));
        return id;
      }
    }
    // Older than the ring: page through the store without holding the hub's lock (the
    // committer must not wait on a query), then look at the ring again.
    auto page = log_.eventsAfter(delivered, 1000);
    if (!page || page->empty()) {
      std::lock_guard lock(mu_);
      // Pruned or not yet committed: continue from the ring's start.
      delivered = ring_.empty() ? last_position_ : ledger::positionOf(ring_.front()) - 1;
      continue;
    }
    for (const auto& e : *page) {
      if (!subscriber(&e)) return 0;
      delivered = ledger::positionOf(e);
    }
  }
}

void EventHub::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mu_);
  subscribers_.erase(id);
}

void EventHub::heartbeat() {
  std::lock_guard lock(mu_);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    it = it->second(nullptr) ? std::next(it) : subscribers_.erase(it);
  }
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

std::uint64_t EventHub::lastPosition() const {
  std::lock_guard lock(mu_);
  return last_position_;
}

}  // namespace netledger::server
