#pragma once
// WriteSet: everything one command changes, built while the command runs under the ledger's
// lock and committed by the Ledger as one unit: the store writes and the audit events, with the
// actor and the time they record. A command that fails drops its write set; one that changes
// nothing leaves it empty (and the Ledger then answers with no new ticket).
//
//   WriteSet ws(actor, clock.now());
//   ws.put(PutBinding{b, expected});
//   ws.event("binding.renew", "binding:7", {"instance:vm-1"}, before, after);
//   ticket = ledger.commit(std::move(ws));   // the events get their seq here

#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "ledger/actor.h"
#include "ledger/model.h"
#include "ledger/store.h"

namespace netledger::ledger {

class WriteSet {
 public:
  // `actor` must outlive the write set.
  WriteSet(const Actor& actor, TimePoint now)
      : actor_(actor),
        now_(now),
        now_ms_(
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()) {
  }

  const Actor& actor() const { return actor_; }
  TimePoint now() const { return now_; }
  Millis nowMs() const { return now_ms_; }

  void put(Write write) { writes_.push_back(std::move(write)); }
  // An audit event, in order with the writes. Its seq is 0 until the Ledger commits the set.
  void event(std::string op, std::string subject, std::vector<std::string> keys, std::string before,
             std::string after) {
    EventRecord e;
    e.time = now_ms_;
    e.actor = actor_.name;
    e.op = std::move(op);
    e.subject = std::move(subject);
    e.keys = std::move(keys);
    e.before = std::move(before);
    e.after = std::move(after);
    writes_.push_back(AppendEvent{std::move(e)});
  }

  bool empty() const { return writes_.empty(); }
  // The writes, for the Ledger to number the events and hand them to the commit pipeline.
  std::vector<Write>& writes() { return writes_; }

 private:
  const Actor& actor_;
  TimePoint now_;
  Millis now_ms_;
  std::vector<Write> writes_;
};

}  // namespace netledger::ledger
