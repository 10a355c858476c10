#pragma once
// The `etcd` backend: one ledger shared by every netledgerd replica pointed at the same etcd
// cluster and prefix ("etcd://127.0.0.1:2379,127.0.0.1:22379/netledger").
//
// - A batch is one etcd transaction. Its compares cover everything the batch was built on:
//   each record it changes still has the mod_revision this process last saw (or does not exist
//   yet), each address and MAC it newly takes has no holder key (ip/..., mac/..., created in
//   the same transaction), each event seq is unused. A refused transaction applies nothing and
//   is kAborted: another replica got there first (see ledger::Store::shared()).
// - No etcd lock or lease decides anything: the compares are the only guard (Jepsen's etcd
//   3.4.3 analysis: transactions are strict serializable, locks are not safe).
// - follow() watches the prefix from the revision load() read and hands every other writer's
//   transaction to the ledger as a batch of writes, in revision order; of this process's own
//   transactions (already in memory) it hands back the events alone, so the event stream and
//   webhooks see every writer's events in one order, etcd's (EventRecord::position).
// - History is answered from this replica's archive (etcd_archive.h), fed by the same watch and
//   at load from etcd's log of events (ev/), which the elected replica prunes after log-hours;
//   etcd holds each event once, with no per-history-key copies.
//
// Thread-safe: apply() from the committer, queries from any thread, the watch on its own.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ledger/store.h"
#include "store/etcd/etcd_archive.h"
#include "store/etcd/etcd_client.h"
#include "store/etcd/etcd_keys.h"

namespace netledger::store::etcd {

class EtcdStore final : public ledger::Store {
 public:
  // Connects (one round trip, so a wrong endpoint or password fails here) and opens the history
  // archive kept in `history` (a store of this process's own; only its events and one document
  // of its own are used).
  static Result<std::unique_ptr<EtcdStore>> open(const std::string& url, EtcdTarget target,
                                                 EtcdCredentials credentials,
                                                 std::unique_ptr<ledger::Store> history);
  ~EtcdStore() override;

  Result<ledger::StoreState> load() override;
  Status apply(const std::vector<ledger::Write>& batch) override;
  // apply(), with the batch's events numbered first by this replica's slot after the highest seq
  // it has seen (nextForWriter), so replicas writing at once do not take the same seqs. When
  // the only compares that failed are seqs all the same (two replicas on one slot), they are
  // renumbered after the highest stored seq and the transaction is sent again (up to 8 times).
  Status commit(std::vector<ledger::Write>& batch) override;
  // From the history archive: while following, once it holds what memory holds (what was
  // loaded, what the feed delivered, this process's own last batch: read-your-writes; other
  // replicas' newer events arrive with the feed); otherwise after reading etcd's log since the
  // archive's revision.
  Result<std::vector<ledger::EventRecord>> queryEvents(const ledger::EventQuery& query) override;
  // In the order of etcd's revisions (EventRecord::position = revision << kRankBits | the
  // event's rank by seq in its transaction), the one order every replica serves events in.
  Result<std::vector<ledger::EventRecord>> eventsAfter(std::uint64_t after,
                                                       std::size_t limit) override;
  static constexpr int kRankBits = 12;
  static std::uint64_t positionOf(std::int64_t revision, std::uint64_t rank) {
    constexpr std::uint64_t kMaxRank = (std::uint64_t{1} << kRankBits) - 1;
    return (static_cast<std::uint64_t>(revision) << kRankBits) | std::min(rank, kMaxRank);
  }
  // Prunes this replica's archive (every replica calls it), and — on the elected replica, or in
  // a process that does not follow — etcd's log of events older than `before` or than
  // log-hours, whichever is later, then compacts etcd's history up to the revision the previous
  // call saw (hourly, so no replica's watch is that far behind): etcd 3.4 keeps every revision
  // until told otherwise. Returns how many events left the archive.
  Result<std::size_t> pruneEvents(ledger::Millis before) override;
  // kInvalidArgument: etcd's own `etcdctl snapshot save` copies the whole cluster.
  Status snapshotTo(const std::string& path) override;
  std::string url() const override { return url_; }

  bool shared() const override { return true; }
  std::size_t costOf(const ledger::Write& write) const override;
  // The cluster's --max-txn-ops (128 unless the URL says ?max-txn-ops=N), less room for the
  // batch's writer mark and fence.
  std::size_t maxBatchCost() const override {
    return static_cast<std::size_t>(client_->target().max_txn_ops - 8);
  }
  // Drawn at open() from a counter in etcd (meta/slots), so replicas started together differ.
  std::uint32_t writerSlot() const override { return slot_; }
  Status follow(ChangeSink sink) override;
  void stopFollowing() override;

  // Elected among the replicas on a lease of kLeaderTtlSeconds (etcd_leader.cc), from follow()
  // until stopFollowing(), which hands the leadership over at once.
  bool leading() const override;
  static constexpr int kLeaderTtlSeconds = 3;
  // Judged by the campaign's requests (a lease keep-alive or a guarded put about every
  // 0.4-1 s, each needing a quorum), and by every committed batch.
  Status health() const override;
  // Waits until the feed has delivered the newest revision of the prefix (read from etcd); when
  // it has not within `timeout`, the watch is moved to another member and kUnavailable returned.
  Status catchUp(std::chrono::milliseconds timeout) override;
  std::uint64_t readPosition() const override;

  // An archive that began after etcd's log had been pruned (etcd keeps a mark of each prune),
  // or that was away longer than log-hours, copies the events older than log-hours it lacks
  // from `source` (another replica's history), a page at a time on the archive's thread,
  // resuming where it stopped after a restart or an unreachable peer; without a source it
  // answers from what it has (historyComplete() false).
  void setHistorySource(HistorySource source) override;
  bool historyComplete() const override;
  static constexpr std::size_t kBackfillPage = 2000;

  // This process's writer id (the w/ key its transactions touch).
  const std::string& writerId() const { return writer_; }

 private:
  struct Seen {  // what this process last saw of a record key
    std::uint64_t version = 0;
    std::int64_t mod_revision = 0;
  };
  class TxnPlan;  // etcd_txn.cc

  EtcdStore(std::string url, std::unique_ptr<EtcdClient> client, std::string prefix,
            std::unique_ptr<HistoryArchive> archive, std::int64_t log_hours);

  // The transaction of `batch`; `only_seqs` says whether a refusal was due to event seqs alone.
  Status attempt(const std::vector<ledger::Write>& batch, bool* only_seqs);
  // The revision at which the transaction marked `mark` committed, if it did: a transaction
  // resent after its answer was lost finds its own first attempt's writes.
  std::optional<std::int64_t> landedEarlier(const std::string& mark);
  Status overtaken(const std::vector<Compare>& compares,
                   const std::vector<std::optional<KeyValue>>& current) const;
  std::string describeKey(const std::string& key) const;
  // The network of a pool this process has seen ("default" for none).
  std::string networkOfLocked(const std::string& pool) const;
  std::vector<std::string> claimsOfLocked(const ledger::BindingRecord& b) const;
  // Leadership (etcd_leader.cc). The fence: the leader key's create_revision while leading.
  void campaignLoop();
  bool keepLease();
  void stepDown();
  std::int64_t fenceRevision() const;
  // Takes the next number of the meta/slots counter (compare-and-swap).
  Result<std::uint32_t> drawSlot();
  // Load steps (etcd_store.cc).
  Result<ledger::StoreState> loadOnce();
  Status loadRecords(std::int64_t revision, ledger::StoreState& state);
  Result<std::uint64_t> highest(const std::string& section, std::int64_t revision);
  // The feed: one watch response's revisions, each another writer's batch (etcd_feed.cc).
  void feedLoop();
  void markFed(std::int64_t revision);
  bool deliver(const WatchBatch& batch);
  std::vector<ledger::Write> writesOf(const std::vector<const WatchEvent*>& events, bool own);
  // The archive (etcd_archive_sync.cc): brought up to etcd's log, fed by the watch, awaited.
  Status syncArchive();
  void archiveFed(const std::vector<ledger::EventRecord>& events,
                  const std::vector<std::int64_t>& revisions, std::int64_t first,
                  std::int64_t through);
  void awaitArchived(std::int64_t revision, std::chrono::milliseconds timeout);
  // While following: brings a stale archive up to etcd's log (after a load, a gap, a failure),
  // and copies what etcd's log dropped before the archive began, a page at a time.
  void archiveLoop();
  // Whether the archive, at revision `from` and about to take etcd's log as read at
  // `read_revision`, lacks events a prune dropped before it held them: a new archive when the
  // log had been pruned, one away longer than log-hours when a prune came meanwhile (recorded
  // in the archive as a back-fill to do).
  Status noteWhatThePrunesDropped(std::int64_t from, std::int64_t read_revision);
  // An archive that stopped at revision `from` at wall time `since` (0: unknown) and missed a
  // prune while away copies what that prune dropped.
  Status backfillAfterAbsence(std::int64_t from, ledger::Millis since);
  // Events older than this may be missing from an archive that began (or came back) now.
  ledger::Millis backfillCut() const;
  // Copies the next page of the back-fill `b`; whether there may be more.
  Result<bool> backfillStep(const HistoryArchive::Backfill& b);
  Status pruneLog(ledger::Millis before);
  Status dropLegacyCopies();

  const std::string url_;
  const std::unique_ptr<EtcdClient> client_;
  const Keys keys_;
  const std::string writer_;
  std::uint32_t slot_ = 0;

  mutable std::mutex mu_;                                     // guards everything below
  std::map<std::string, Seen> seen_;                          // record key -> last seen
  std::map<std::uint64_t, std::vector<std::string>> claims_;  // binding id -> holder keys
  std::map<std::string, std::string> networks_;               // pool -> network
  std::int64_t loaded_revision_ = 0;
  std::uint64_t last_seq_ = 0;  // the highest event seq loaded, committed or fed

  ChangeSink sink_;
  std::thread feed_;
  std::atomic<bool> stopping_{false};
  std::int64_t next_revision_ = 0;  // feed thread only
  // Not mu_: readPosition() runs under the Ledger's lock, and mu_ is held across a commit.
  mutable std::mutex fed_mu_;
  std::condition_variable fed_cv_;
  std::int64_t fed_revision_ = 0;  // loaded or fed: every revision up to it is in memory

  std::thread campaign_;
  std::mutex campaign_mu_;
  std::condition_variable campaign_cv_;
  std::int64_t lease_ = 0;                      // campaign thread only
  std::atomic<std::int64_t> fence_{0};          // 0: not leading
  std::atomic<std::int64_t> leading_until_{0};  // steady clock, ns
  // health() from one reading of quorum_seen_ (steady clock, ns; 0: none yet).
  Status healthAsOf(std::int64_t quorum_seen_ns) const;
  std::atomic<std::int64_t> quorum_seen_{0};  // steady clock, ns: the last quorum answer
  std::int64_t compact_below_ = 0;            // pruneEvents only

  const std::unique_ptr<HistoryArchive> archive_;
  const std::int64_t log_hours_;
  std::atomic<bool> following_{false};
  // The archive may lack revisions (an append failed or would have left a gap): the next query
  // reads them from etcd's log. The feed keeps offering what it has.
  std::atomic<bool> archive_stale_{false};
  std::atomic<std::int64_t> committed_revision_{0};  // this process's last batch with events
  std::mutex archived_mu_;
  std::condition_variable archived_cv_;
  std::thread archiver_;
  HistorySource history_source_;          // set before follow()
  std::atomic<bool> backfilling_{false};  // a page was copied and more may follow
  std::atomic<bool> synced_{false};       // a sync with etcd's log succeeded in this process
  std::uint64_t batches_ = 0;             // this writer's transactions (mu_)
};

}  // namespace netledger::store::etcd
