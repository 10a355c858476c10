#pragma once
// HistoryArchive: one replica's copy of every event of the etcd prefix, kept in a store of the
// replica's own (SQLite beside its data in netledgerd, memory: when no path is given), with the
// etcd revision it is complete through.
//
// etcd holds the ledger's current state and a bounded recent log of events (ev/, pruned past
// the URL's log-hours); the history — who held an address when, lineage, the audit log — is
// answered from here, where it can grow to the retention period. It is fed in revision order
// (from the watch as the feed delivers, and from etcd's log at load), so it never holds an
// event twice and, after a crash, resumes from the revision it recorded with its last batch.
//
//   HistoryArchive archive(std::make_unique<MemoryStore>());
//   NL_RETURN_IF_ERROR(archive.open(prefix));
//   // Revisions at or below archive.revision() are skipped.
//   NL_RETURN_IF_ERROR(archive.append(events, revisions, first, through));
//   auto page = archive.query(q);
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ledger/store.h"

namespace netledger::store::etcd {

class HistoryArchive {
 public:
  explicit HistoryArchive(std::unique_ptr<ledger::Store> store);

  // Reads the revision the archive is complete through (0 for a new one). kInvalidArgument when
  // it holds the history of another ledger (another etcd prefix).
  Status open(const std::string& prefix);
  std::int64_t revision() const;
  // When revision() was reached (wall clock; 0 when unknown): how long an archive was away.
  ledger::Millis revisionTime() const;

  // Appends `events`, each with the etcd revision it was committed at (`revisions[i]`, in
  // ascending order): every event of revisions `first` to `through`, as the caller vouches.
  // Those at or below revision() are left out; then revision() is `through`. kAborted, nothing
  // appended, when `first` is past revision() + 1: the revisions between are not in hand (the
  // caller reads them from etcd's log first).
  Status append(const std::vector<ledger::EventRecord>& events,
                const std::vector<std::int64_t>& revisions, std::int64_t first,
                std::int64_t through);

  Result<std::vector<ledger::EventRecord>> query(const ledger::EventQuery& q);
  Result<std::size_t> prune(ledger::Millis before);

  // The copy of the events etcd's log dropped before this archive held them (it began, or came
  // back, after a prune), from another replica's history (EtcdStore::setHistorySource): every
  // event of [from, cut) the archive lacks, read in ascending seq order. Recorded beside the
  // revision marker, so that a restart resumes after the last page instead of starting over.
  struct Backfill {
    bool done = false;
    ledger::Millis from = 0;      // events this old or younger ...
    ledger::Millis cut = 0;       // ... and older than this are copied
    std::uint64_t after_seq = 0;  // copied up to this seq
  };
  // nullopt until decided (a new archive, or one kept by a build before the back-fill).
  std::optional<Backfill> backfill() const;
  Status setBackfill(const Backfill& b);
  // Appends the events of `page` (the source's answer for `asked`: its next events of [from,
  // cut), ascending by seq after after_seq) that the archive does not hold yet, and moves
  // after_seq to the last of them, in one transaction; an empty page marks the back-fill done.
  // Returns how many were new: 0, and nothing done, when the back-fill is no longer `asked`
  // (another sync widened it meanwhile; ask again).
  Result<std::size_t> appendBackfill(const Backfill& asked,
                                     const std::vector<ledger::EventRecord>& page);

 private:
  // Seqs in (after, through] of events in [from, to] the archive already holds (mu_ held).
  Result<std::vector<std::uint64_t>> heldSeqsLocked(std::uint64_t after, std::uint64_t through,
                                                    ledger::Millis from, ledger::Millis to);
  ledger::PutDocument backfillMarkerLocked(const Backfill& b) const;

  mutable std::mutex mu_;
  std::unique_ptr<ledger::Store> store_;
  std::int64_t revision_ = 0;
  ledger::Millis revision_time_ = 0;
  std::string prefix_;                // the ledger's etcd prefix: the marker document's key
  std::uint64_t marker_version_ = 0;  // the marker's version in store_
  std::optional<Backfill> backfill_;
  std::uint64_t backfill_version_ = 0;  // the back-fill marker's version in store_
};

}  // namespace netledger::store::etcd
