#pragma once
// ActivityRates: allocations, releases and expirations per second over the last hour, counted
// from the ledger's committed events, for the dashboard's rate chart (GET /v1/stats/rates).
//
// After a restart the hour before is recovered from the audit log by backfill(), on a thread of
// its own after start-up (a million-binding store must still start in seconds): until it is
// done, `coveredFrom()` is the start time, after it the start minus the window.
//
// Thread-safe: record() runs on the ledger's committer thread, buckets() on HTTP threads.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "common/clock.h"
#include "ledger/event_log.h"
#include "ledger/model.h"

namespace netledger::server {

using ledger::Millis;

class ActivityRates {
 public:
  static constexpr std::int64_t kWindowSeconds = 3600;

  struct Bucket {
    Millis start = 0;  // unix milliseconds
    std::uint64_t allocations = 0, releases = 0, expirations = 0;
  };

  explicit ActivityRates(Millis started_at) : started_at_(started_at), covered_from_(started_at) {}

  // Counts the events that allocate, release or expire a binding; ignores the rest.
  void record(std::span<const ledger::EventRecord* const> events);
  void record(const std::string& op, Millis time);

  // `window_s / step_s` buckets of `step_s` seconds, starting on multiples of step_s, the last
  // one holding `now`; oldest first. Needs 1 <= step_s <= window_s <= kWindowSeconds and step_s
  // dividing window_s.
  std::vector<Bucket> buckets(Millis now, std::int64_t window_s, std::int64_t step_s) const;

  Millis startedAt() const { return started_at_; }
  // From when on the counts are complete: the start, or the start minus the window once
  // backfill() has finished.
  Millis coveredFrom() const { return covered_from_.load(); }

  // Counts the allocate/release/expire events of the window before the start from the audit
  // log (events with seq <= `up_to_seq`, the last one committed before the event listener
  // counted them live), newest first, at most `max_per_op` of each. Returns early when `stop`
  // is set. Safe to run beside record().
  void backfill(const ledger::EventLog& log, std::uint64_t up_to_seq, const std::atomic<bool>& stop,
                std::size_t max_per_op = 200'000);

 private:
  struct Second {
    std::int64_t second = -1;  // unix seconds this slot counts; -1: never used
    std::uint32_t allocations = 0, releases = 0, expirations = 0;
  };

  const Millis started_at_;
  std::atomic<Millis> covered_from_;
  mutable std::mutex mu_;
  std::array<Second, kWindowSeconds> ring_{};
};

}  // namespace netledger::server
