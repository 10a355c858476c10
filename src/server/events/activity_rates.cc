#include "server/events/activity_rates.h"

namespace netledger::server {

void ActivityRates::record(std::span<const ledger::EventRecord* const> events) {
  for (const auto* e : events) record(e->op, e->time);
}

void ActivityRates::record(const std::string& op, Millis time) {
  std::uint32_t Second::*counter = nullptr;
  if (op == "binding.allocate") {
    counter = &Second::allocations;
  } else if (op == "binding.release") {
    counter = &Second::releases;
  } else if (op == "binding.expire") {
    counter = &Second::expirations;
  } else {
    return;
  }
  const std::int64_t second = time / 1000;
  std::lock_guard lock(mu_);
  Second& slot = ring_[static_cast<std::size_t>(second % kWindowSeconds)];
  if (slot.second != second) {
    // An older second than the slot holds is outside the window already; a newer one reuses it.
    if (slot.second > second) return;
    slot = Second{second, 0, 0, 0};
  }
  slot.*counter += 1;
}

void ActivityRates::backfill(const ledger::EventLog& log, std::uint64_t up_to_seq,
                             const std::atomic<bool>& stop, std::size_t max_per_op) {
  constexpr std::size_t kPage = 1000;
  const Millis from = started_at_ - kWindowSeconds * 1000;
  bool complete = true;
  for (const char* op : {"binding.allocate", "binding.release", "binding.expire"}) {
    ledger::EventQuery q;
    q.op = op;
    q.from = from;
    q.before_seq = up_to_seq + 1;  // newest first, only what the listener did not count
    q.limit = kPage;
    for (std::size_t seen = 0;;) {
      if (stop.load() || seen >= max_per_op) {
        complete = false;  // cut short: the counts of the hour before stay partial
        break;
      }
      auto page = log.audit(q);
      if (!page) {
        complete = false;
        break;
      }
      for (const auto& e : *page) record(e.op, e.time);
      seen += page->size();
      if (page->size() < kPage) break;
      q.before_seq = page->back().seq;
    }
  }
  if (complete) covered_from_ = from;
}

std::vector<ActivityRates::Bucket> ActivityRates::buckets(Millis now, std::int64_t window_s,
                                                          std::int64_t step_s) const {
  std::vector<Bucket> out;
  if (step_s < 1 || window_s < step_s || window_s > kWindowSeconds || window_s % step_s != 0) {
    return out;
  }
  const std::int64_t n = window_s / step_s;
  // Buckets start on multiples of the step (whole minutes for step_s=60), the last one holding
  // now, so consecutive polls see the same bucket boundaries.
  const std::int64_t last_second = now / 1000;
  const std::int64_t first_second = (last_second / step_s + 1) * step_s - window_s;
  out.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)].start = (first_second + i * step_s) * 1000;
  }
  std::lock_guard lock(mu_);
  for (const Second& s : ring_) {
    if (s.second < first_second || s.second > last_second) continue;
    Bucket& b = out[static_cast<std::size_t>((s.second - first_second) / step_s)];
    b.allocations += s.allocations;
    b.releases += s.releases;
    b.expirations += s.expirations;
  }
  return out;
}

}  // namespace netledger::server
