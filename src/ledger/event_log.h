#pragma once
// EventLog: read access to the durable audit events, for consumers that only read history (the
// event stream's replay, the activity rates' backfill) and must not depend on the whole Ledger.

#include <vector>

#include "common/status.h"
#include "ledger/model.h"
#include "ledger/store.h"

namespace netledger::ledger {

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Events matching `query`, ascending by seq (descending when before_seq is set), read from the
  // store: only durable events. Thread-safe; takes no ledger lock.
  virtual Result<std::vector<EventRecord>> audit(const EventQuery& query) const = 0;
  // Up to `limit` durable events after `position` in the global order (Store::eventsAfter).
  virtual Result<std::vector<EventRecord>> eventsAfter(std::uint64_t position,
                                                       std::size_t limit) const = 0;
};

}  // namespace netledger::ledger
