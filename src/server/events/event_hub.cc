#include "server/events/event_hub.h"

#include <vector>

namespace netledger::server {

EventHub::EventHub(const ledger::EventLog& log, std::uint64_t last_seq, std::size_t ring_size)
    : log_(log), ring_size_(ring_size == 0 ? 1 : ring_size), last_seq_(last_seq) {}

void EventHub::publish(std::span<const ledger::EventRecord* const> events) {
  std::lock_guard lock(mu_);
  for (const ledger::EventRecord* e : events) {
    if (e->seq <= last_seq_) continue;  // already seen (never expected; keeps order strict)
    last_seq_ = e->seq;
    ring_.push_back(*e);
    if (ring_.size() > ring_size_) ring_.pop_front();
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      it = it->second(e) ? std::next(it) : subscribers_.erase(it);
    }
  }
}

std::uint64_t EventHub::subscribe(std::uint64_t after_seq, Subscriber subscriber) {
  std::uint64_t delivered = after_seq;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (after_seq == 0) delivered = last_seq_;
      const std::uint64_t ring_first = ring_.empty() ? last_seq_ + 1 : ring_.front().seq;
      if (delivered + 1 >= ring_first) {
        // The ring covers the rest: replay it and go live, atomically with respect to publish.
        for (const auto& e : ring_) {
          if (e.seq <= delivered) continue;
          if (!subscriber(&e)) return 0;
        }
        std::uint64_t id = next_id_++;
        subscribers_.emplace(id, std::move(subscriber));
        return id;
      }
    }
    // Older than the ring: page through the store without holding the hub's lock (the
    // committer must not wait on a query), then look at the ring again.
    ledger::EventQuery q;
    q.after_seq = delivered;
    q.limit = 1000;
    auto page = log_.audit(q);
    if (!page || page->empty()) {
      std::lock_guard lock(mu_);
      // Pruned or not yet committed: continue from the ring's start.
      delivered = ring_.empty() ? last_seq_ : ring_.front().seq - 1;
      continue;
    }
    for (const auto& e : *page) {
      if (!subscriber(&e)) return 0;
      delivered = e.seq;
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

std::uint64_t EventHub::lastSeq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

}  // namespace netledger::server
