#pragma once
// The Ledger's private state (LevelDB's db_impl.h to ledger.h's db.h): the components with one
// job each, the one mutex that guards them, and the commit pipeline that shares it. Only the
// Ledger's own .cc files include this.

#include <chrono>
#include <cstdint>
#include <mutex>

#include "common/clock.h"
#include "ledger/bindings.h"
#include "ledger/commit_pipeline.h"
#include "ledger/documents.h"
#include "ledger/history.h"
#include "ledger/ledger.h"
#include "ledger/mac_pools.h"
#include "ledger/pools.h"
#include "ledger/tokens.h"

namespace netledger::ledger {

struct Ledger::State {
  State(Store& s, Clock& c, LedgerOptions o)
      : store(s),
        clock(c),
        options(o),
        mac_pools(o.mac_quarantine_s),
        bindings(pools, mac_pools),
        history(s),
        pipeline(s, mu, [this] { return rebuildLocked(); }) {}

  // Loads everything from the store into empty components (mu held).
  Status loadLocked();
  // Builds every component from a loaded store (`t0`: when the load began, for the stats).
  Status buildLocked(StoreState& loaded, std::chrono::steady_clock::time_point t0);
  // After a failed commit: forget memory and load what is durable (mu held). If the store
  // cannot be read, memory is kept and reload_pending set.
  Status rebuildLocked();
  // rebuildLocked() outside a failed commit (the feed lost track, a deferred reload): also has
  // the pipeline rebuild again once what was queued or in flight is durable.
  Status reloadLocked();
  void clearLocked();
  // Numbers the write set's events and queues its writes: the ticket (mu held).
  std::uint64_t commitLocked(WriteSet& ws);
  // Applies one durable record of another writer (mu held); quarantine entries and events are
  // applied by the caller after the rest of the batch.
  Status applyRecordLocked(const Write& write, TimePoint now);

  Store& store;
  Clock& clock;
  const LedgerOptions options;

  mutable std::mutex mu;  // guards everything below, and the pipeline's queue
  Pools pools;
  MacPools mac_pools;
  Bindings bindings;
  Tokens tokens;
  Documents documents;
  History history;  // reads the store only: needs no lock
  std::uint64_t last_event_seq = 0;
  std::uint64_t last_event_position = 0;  // shared stores: the feed's (0: last_event_seq)
  std::uint64_t allocations = 0, releases = 0, expirations = 0;
  LoadStats load_stats;
  bool open = false;
  bool reload_pending = false;           // a rebuild could not read the store: memory may be ahead
  std::set<std::string> listened_kinds;  // setDocumentListener
  std::function<void(DocumentChanges)> document_listener;
  CommitPipeline pipeline;  // last: its thread uses everything above
};

}  // namespace netledger::ledger
