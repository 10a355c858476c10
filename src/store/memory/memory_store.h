#pragma once
// The `memory:` backend: the whole store in RAM, with exactly the semantics of the durable
// backends (conditional versions, all-or-nothing batches, queryable events). For tests, and for
// fault injection: failNextApplies() makes the Ledger's undo path testable.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ledger/store.h"

namespace netledger::store {

class MemoryStore final : public ledger::Store {
 public:
  MemoryStore() = default;

  // A copy of everything stored; bindings ascending by id. Never fails. Thread-safe.
  Result<ledger::StoreState> load() override;

  // Validates every write against the state as left by the writes before it in the batch, then
  // applies them all; kConflict (naming the record) and nothing applied on any mismatch,
  // kInvalidArgument for an event with seq 0. Deletes succeed only when the record exists with
  // exactly `expected_version`. Quarantine writes are unconditional (delete of an absent entry is
  // a no-op). kUnavailable, nothing applied, while failNextApplies() is in force. Thread-safe.
  Status apply(const std::vector<ledger::Write>& batch) override;

  // Same contract as ledger::Store::queryEvents. Thread-safe.
  Result<std::vector<ledger::EventRecord>> queryEvents(const ledger::EventQuery& query) override;

  // Deletes events with time < `before` and their history keys; last_event_seq is kept.
  Result<std::size_t> pruneEvents(ledger::Millis before) override;

  // Always kInvalidArgument: there is nothing durable to copy.
  Status snapshotTo(const std::string& path) override;

  std::string url() const override { return "memory:"; }

  // Fault injection: the next `n` apply() calls fail with kUnavailable and apply nothing
  // (n <= 0 cancels). Thread-safe.
  void failNextApplies(int n);

 private:
  struct Validation;  // the per-batch overlay of versions (memory_store.cc)

  Status validate(const std::vector<ledger::Write>& batch) const;
  void applyValidated(const std::vector<ledger::Write>& batch);
  void appendEvent(const ledger::EventRecord& event);

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, ledger::PoolRecord> pools_;
  std::map<std::string, ledger::MacPoolRecord> mac_pools_;
  std::map<std::uint64_t, ledger::BindingRecord> bindings_;
  std::map<std::string, ledger::TokenRecord> tokens_;
  // (kind, pool, key): one address may be quarantined in pools of several networks.
  std::map<std::tuple<std::string, std::string, std::string>, ledger::QuarantineRecord> quarantine_;
  std::map<std::string, ledger::DocumentRecord> documents_;  // by documentId(kind, key)
  std::map<std::uint64_t, ledger::EventRecord> events_;
  std::map<std::string, std::set<std::uint64_t>> event_keys_;  // history key -> seqs
  std::uint64_t last_binding_id_ = 0;  // high-water marks: survive deletes and pruning
  std::uint64_t last_event_seq_ = 0;
  int failing_applies_ = 0;
};

}  // namespace netledger::store
