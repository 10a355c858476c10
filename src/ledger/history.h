#pragma once
// History: the questions asked of the audit log ("who held 10.0.0.5 at 14:00 last Tuesday?",
// the lineage of an address, MAC or instance, the filtered audit trail). Everything is read
// from the store's events, so it needs no ledger lock and sees only what is durable.

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/event_log.h"
#include "ledger/store.h"
#include "ledger/views.h"

namespace netledger::ledger {

class History final : public EventLog {
 public:
  // `store` must outlive the History. Thread-safe (the store's queryEvents is).
  explicit History(Store& store) : store_(store) {}

  // The holder of `key` ("ip:…", "mac:…", "instance:…") at `at`: the binding, or kNotFound
  // saying what last happened to it.
  Result<HistoryEntry> holderAt(const std::string& key, Millis at) const;
  // What happened to `key` in [from, to], oldest first, starting with the holder at `from`.
  Result<std::vector<HistoryEntry>> lineage(const std::string& key, Millis from, Millis to,
                                            std::size_t limit) const;
  Result<std::vector<EventRecord>> audit(const EventQuery& query) const override;
  Result<std::vector<EventRecord>> eventsAfter(std::uint64_t position,
                                               std::size_t limit) const override;

 private:
  Store& store_;
};

}  // namespace netledger::ledger
