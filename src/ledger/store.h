#pragma once
// The Store interface: how the Ledger persists. Small on purpose (LevelDB db.h, Kea LeaseMgr):
// load everything at start, apply a batch atomically and durably, query and prune events,
// snapshot. Backends (src/store/: sqlite, memory, etcd) register by URL scheme.
//
// The interface lives here, beside its only consumer, so that backends depend on the ledger
// and not the other way round.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "ledger/model.h"

namespace netledger::ledger {

// Everything the ledger needs to rebuild its in-memory state.
struct StoreState {
  std::vector<PoolRecord> pools;
  std::vector<MacPoolRecord> mac_pools;
  std::vector<BindingRecord> bindings;
  std::vector<TokenRecord> tokens;
  std::vector<QuarantineRecord> quarantine;
  std::vector<DocumentRecord> documents;
  std::uint64_t last_event_seq = 0;
  std::uint64_t last_binding_id = 0;
  // The position (EventRecord::position) every loaded event is at or below; 0: last_event_seq.
  std::uint64_t last_event_position = 0;
};

// One write of a batch. `expected_version` makes writes conditional, so a backend shared by
// several replicas (etcd) can refuse a batch built on stale reads: 0 means "must not exist",
// otherwise the stored version must equal it. SQLite, the single writer, always matches.
struct PutPool {
  PoolRecord pool;
  std::uint64_t expected_version;
  // The store's readPosition() when the write was decided (the Ledger stamps it): a shared
  // store refuses the write if another writer changed the pools of its network after that,
  // since the overlap check ran without them. 0: not said (the store's position when it
  // commits stands in).
  std::uint64_t read_at = 0;
};
struct DeletePool {
  std::string name;
  std::uint64_t expected_version;
};
struct PutMacPool {
  MacPoolRecord pool;
  std::uint64_t expected_version;
};
struct DeleteMacPool {
  std::string name;
  std::uint64_t expected_version;
};
struct PutBinding {
  BindingRecord binding;
  std::uint64_t expected_version;
};
struct DeleteBinding {
  std::uint64_t id;
  std::uint64_t expected_version;
};
struct PutToken {
  TokenRecord token;
  std::uint64_t expected_version;
};
struct DeleteToken {
  std::string name;
  std::uint64_t expected_version;
};
struct PutQuarantine {
  QuarantineRecord entry;
};
struct DeleteQuarantine {
  std::string kind;
  std::string key;
  std::string pool;  // the same address may be quarantined in pools of several networks
};
struct PutDocument {
  DocumentRecord document;
  std::uint64_t expected_version;
};
struct DeleteDocument {
  std::string kind;
  std::string key;
  std::uint64_t expected_version;
};
struct AppendEvent {
  EventRecord event;
};
using Write = std::variant<PutPool, DeletePool, PutMacPool, DeleteMacPool, PutBinding,
                           DeleteBinding, PutToken, DeleteToken, PutQuarantine, DeleteQuarantine,
                           PutDocument, DeleteDocument, AppendEvent>;

struct EventQuery {
  std::optional<std::string> key;  // history key ("ip:10.0.0.5"); any when unset
  std::optional<std::string> op;   // exact op; any when unset
  std::optional<std::string> actor;
  Millis from = 0;               // inclusive
  Millis to = INT64_MAX;         // inclusive
  std::uint64_t after_seq = 0;   // cursor: only events with seq > after_seq (ascending) ...
  std::uint64_t before_seq = 0;  // ... or, when set, seq < before_seq (descending)
  std::size_t limit = 100;
};

class Store {
 public:
  virtual ~Store() = default;

  // The full state, for start-up. Called once, before any apply(). Thread-compatible.
  virtual Result<StoreState> load() = 0;

  // Applies every write or none, and returns only once the batch is durable (fsync'd for
  // SQLite). kConflict when an expected_version does not hold (nothing applied);
  // kUnavailable for I/O failure. Called from one thread at a time (the committer).
  virtual Status apply(const std::vector<Write>& batch) = 0;

  // Events matching `query`, ascending by seq (descending when before_seq is set).
  // Thread-safe with respect to apply().
  virtual Result<std::vector<EventRecord>> queryEvents(const EventQuery& query) = 0;

  // Up to `limit` events with positionOf(e) > `after`, ascending by position, each with its
  // position set when the store orders by something other than seq (a shared store).
  virtual Result<std::vector<EventRecord>> eventsAfter(std::uint64_t after, std::size_t limit) {
    EventQuery q;
    q.after_seq = after;
    q.limit = limit;
    return queryEvents(q);
  }

  // Deletes events older than `before`; returns how many.
  virtual Result<std::size_t> pruneEvents(Millis before) = 0;

  // Writes a consistent copy of the whole store to `path` while serving (SQLite online
  // backup). kInvalidArgument if the backend cannot (memory:).
  virtual Status snapshotTo(const std::string& path) = 0;

  // "sqlite:/path/to/ledger.db", "memory:".
  virtual std::string url() const = 0;

  // ---- several writers (etcd): the defaults describe a store this process alone writes ----

  // True when other processes write the same store. apply() then answers kAborted when the
  // batch was built on state another writer has since changed (nothing applied): the commands
  // in it are to be run again on fresh state, not reported as conflicts.
  virtual bool shared() const { return false; }
  // The group commit's entry point: apply(), except that a shared store may renumber the
  // batch's event seqs when another writer took them first (the caller publishes the events as
  // they are after this returns).
  virtual Status commit(std::vector<Write>& batch) { return apply(batch); }
  // What a write costs against maxBatchCost() (etcd: the operations of one transaction). The
  // group commit never puts more than maxBatchCost() into one batch unless one command alone
  // costs more.
  virtual std::size_t costOf(const Write& write) const {
    (void)write;
    return 1;
  }
  virtual std::size_t maxBatchCost() const { return SIZE_MAX; }
  // A small number that tells this writer apart from the others writing the same store now (0
  // when unshared). Only a hint to spread where writers pick new binding ids and addresses, so
  // that two of them rarely race for the same one; never used for correctness.
  virtual std::uint32_t writerSlot() const { return 0; }
  // How ids and seqs are spread by slot: the writer of slot s > 0 takes only the numbers n with
  // n % kSlotStride == s % kSlotStride (nextForWriter); slot 0 takes every number in turn.
  static constexpr std::uint64_t kSlotStride = 16;
  // Whether this process is to do the work that must run once among the store's writers
  // (expiry sweeps, timed checks, webhook delivery, retention pruning). A shared store elects
  // one writer; its writes are fenced, so a writer that lost the election without knowing it
  // cannot commit. Unshared stores: always true.
  virtual bool leading() const { return true; }
  // Whether the store takes writes now. A server store (etcd) says kUnavailable while it has not
  // answered a request that needs quorum for a few seconds, naming how long ago the last one
  // was: memory still serves reads, which may be that stale.
  virtual Status health() const { return Status::ok(); }
  // Returns once this process holds every change committed to the store before the call (a
  // shared store's feed has delivered them), or kUnavailable after `timeout`. A replica about
  // to say "not found" to a write calls it first: the record may be another replica's, written
  // a moment ago. Unshared stores: at once.
  virtual Status catchUp(std::chrono::milliseconds timeout) {
    (void)timeout;
    return Status::ok();
  }
  // How far this process's memory follows the store: every change another writer committed at
  // or below it has reached the sink (etcd: a revision). Read under the Ledger's lock, so a
  // decision made under that lock saw at least this much. Unshared stores: 0.
  virtual std::uint64_t readPosition() const { return 0; }

  // Receives the batches other writers commit after the last load(), in commit order, each as
  // the writes that make it. An empty batch means the store lost track of some (etcd compacted
  // them before they were delivered): the sink must reload(), and delivery goes on from what
  // that load read. An error from the sink means it could not follow; it is expected to reload.
  using ChangeSink = std::function<Status(std::vector<Write>&& batch)>;
  // Starts delivering to `sink` on a thread of the store's own (a no-op for unshared stores).
  virtual Status follow(ChangeSink sink) {
    (void)sink;
    return Status::ok();
  }
  // Stops the delivery; returns once the sink is no longer called. Idempotent.
  virtual void stopFollowing() {}

  // Another process's copy of the history (queryEvents' contract: matching events ascending by
  // seq), for a shared store whose own copy began after the store had already dropped older
  // events (a replica added once etcd's bounded log was pruned). Set before follow(); the older
  // events are copied from it in the background. Stores that hold their whole history ignore it.
  using HistorySource = std::function<Result<std::vector<EventRecord>>(const EventQuery& query)>;
  virtual void setHistorySource(HistorySource source) { (void)source; }
  // False while this process's history lacks events the store dropped before it began keeping
  // its own (see setHistorySource): history queries then answer from what it has.
  virtual bool historyComplete() const { return true; }
};

// The smallest number above `last` that the writer of `slot` takes (see Store::kSlotStride).
inline std::uint64_t nextForWriter(std::uint64_t last, std::uint32_t slot) {
  if (slot == 0) return last + 1;
  const std::uint64_t residue = slot % Store::kSlotStride;
  const std::uint64_t base = (last + 1) - (last + 1) % Store::kSlotStride;
  return base + residue > last ? base + residue : base + Store::kSlotStride + residue;
}

// How to reach a store that is a server (etcd): TLS files and user/password auth. File and
// memory stores ignore it.
struct StoreCredentials {
  std::string ca_file, cert_file, key_file;
  std::string user, password;
};

using StoreFactory = std::function<Result<std::unique_ptr<Store>>(
    const std::string& location, const StoreCredentials& credentials)>;

// Registers a backend for URLs "scheme:location". Backends register from their library's
// static-initializer-free entry point (store/register.h: registerBuiltinStores).
void registerStoreBackend(const std::string& scheme, StoreFactory factory);
// Opens "scheme:location"; kInvalidArgument naming the scheme when unknown.
Result<std::unique_ptr<Store>> openStore(const std::string& url,
                                         const StoreCredentials& credentials = {});

}  // namespace netledger::ledger
