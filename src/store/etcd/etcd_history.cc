// EtcdStore's history: queries answered from the replica's archive (etcd_archive.h), the archive
// kept up with etcd's log of events, and both pruned.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "store/etcd/etcd_records.h"
#include "store/etcd/etcd_store.h"

namespace netledger::store::etcd {

namespace {

ledger::Millis wallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How far the replicas' clocks may disagree: an event written after an archive stopped may
// carry a time this much older than when it stopped.
constexpr ledger::Millis kClockSkewMs = 600'000;

}  // namespace

Result<std::vector<ledger::EventRecord>> EtcdStore::queryEvents(const ledger::EventQuery& q) {
  if (following_ && !archive_stale_) {
    // Everything memory holds (loaded, fed, or this process's own last batch): a replica that
    // just loaded answers with what it loaded, not with an archive still being brought up.
    const auto in_memory = static_cast<std::int64_t>(readPosition());
    awaitArchived(std::max(committed_revision_.load(), in_memory), std::chrono::seconds(2));
  } else if (Status s = syncArchive(); !s.isOk() && !following_) {
    return s;  // while following, a stale archive still answers (reads outlive the quorum)
  }
  return archive_->query(q);
}

Status EtcdStore::syncArchive() {
  archive_stale_ = false;  // from here on a gap the feed meets is a new one
  const std::int64_t from = archive_->revision();
  const std::string section = keys_.section("ev/");
  // A new archive reads the whole log at one revision, page by page; one that has a revision
  // asks for what changed since in one range (etcd filters by min_mod_revision server-side).
  auto read = from == 0 ? client_->rangeAll(section, prefixEnd(section))
                        : client_->rangeModifiedSince(section, prefixEnd(section), from + 1, 0);
  std::vector<std::pair<std::int64_t, ledger::EventRecord>> got;  // (revision, event)
  Status s = read.status();
  // Recorded before the append moves the archive's revision and time on, so that a failure or a
  // crash after it cannot lose the decision.
  if (s.isOk()) s = noteWhatThePrunesDropped(from, read->revision);
  for (std::size_t i = 0; s.isOk() && i < read->kvs.size(); ++i) {
    const KeyValue& kv = read->kvs[i];
    if (kv.mod_revision <= from) continue;
    ledger::EventRecord e;
    // One this build cannot read is left out, as the feed leaves it out of memory: it must not
    // hold back every event after it.
    if (decode(kv.value, e).isOk()) got.emplace_back(kv.mod_revision, std::move(e));
  }
  if (s.isOk()) {
    std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second.seq < b.second.seq;
    });
    std::vector<ledger::EventRecord> events;
    std::vector<std::int64_t> revisions;
    for (auto& [revision, e] : got) {
      revisions.push_back(revision);
      events.push_back(std::move(e));
    }
    // Every event committed up to the read's revision is in hand.
    const std::int64_t through = std::max(read->revision, revisions.empty() ? 0 : revisions.back());
    s = archive_->append(events, revisions, from + 1, through);
  }
  if (!s.isOk()) {
    archive_stale_ = true;
    return s;
  }
  synced_ = true;
  std::lock_guard lock(archived_mu_);
  archived_cv_.notify_all();
  return Status::ok();
}

void EtcdStore::archiveFed(const std::vector<ledger::EventRecord>& events,
                           const std::vector<std::int64_t>& revisions, std::int64_t first,
                           std::int64_t through) {
  // A gap (or a failed write) makes it stale; the next query reads the gap from etcd's log.
  if (!archive_->append(events, revisions, first, through).isOk()) {
    archive_stale_ = true;
    return;
  }
  std::lock_guard lock(archived_mu_);
  archived_cv_.notify_all();
}

void EtcdStore::archiveLoop() {
  std::unique_lock lock(archived_mu_);
  auto backfill_due = std::chrono::steady_clock::now();
  auto last_complaint = std::chrono::steady_clock::time_point();
  while (!stopping_) {
    archived_cv_.wait_for(lock, std::chrono::seconds(1),
                          [&] { return stopping_ || archive_stale_ || backfilling_; });
    if (stopping_) break;
    const bool sync = archive_stale_;
    const bool backfill =
        !sync && history_source_ && std::chrono::steady_clock::now() >= backfill_due;
    if (!sync && !backfill) continue;
    lock.unlock();
    Status s;
    if (sync) {
      s = syncArchive();
    } else if (auto b = archive_->backfill(); b && !b->done) {
      auto more = backfillStep(*b);
      backfilling_ = more.isOk() && *more;
      // The peer unreachable or refusing: the next one in 2 s (history answers from what it
      // has meanwhile); why, for the operator, at most once a minute.
      if (!more.isOk()) {
        backfill_due = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        if (std::chrono::steady_clock::now() - last_complaint > std::chrono::minutes(1)) {
          last_complaint = std::chrono::steady_clock::now();
          std::fprintf(stderr, "netledgerd: copying older history from a peer: %s\n",
                       more.status().toString().c_str());
        }
      }
    }
    lock.lock();
    // etcd unreachable: try again in a second (reads keep being answered, a little stale).
    if (!s.isOk())
      archived_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_.load(); });
  }
}

void EtcdStore::setHistorySource(HistorySource source) { history_source_ = std::move(source); }

bool EtcdStore::historyComplete() const {
  if (!synced_) return false;  // not yet checked whether etcd's log dropped events meanwhile
  auto b = archive_->backfill();
  return b && b->done;
}

ledger::Millis EtcdStore::backfillCut() const {
  // A prune drops only events older than log-hours at its time, by the pruning replica's clock:
  // everything older than that, counted from now (and that clock ahead of this one), is what
  // the archive may lack — and no event written since it began.
  return wallMillis() - log_hours_ * 3'600'000 + kClockSkewMs;
}

Status EtcdStore::noteWhatThePrunesDropped(std::int64_t from, std::int64_t read_revision) {
  if (from > 0) {
    if (!archive_->backfill()) {  // kept by a build before the back-fill: complete as it was ...
      NL_RETURN_IF_ERROR(archive_->setBackfill({true, 0, 0, 0}));
    }
    return backfillAfterAbsence(from, archive_->revisionTime());  // ... unless away since
  }
  // A new archive (or one whose first sync failed: decided again, with today's cut): every
  // prune of etcd's log leaves a mark (hw/seq/); none at the revision it reads, and that read
  // holds every event.
  const std::string marks = keys_.section("hw/seq/");
  auto some = client_->range(marks, prefixEnd(marks), 1, read_revision);
  if (!some) return some.status();
  return archive_->setBackfill({some->kvs.empty(), 0, backfillCut(), 0});
}

Status EtcdStore::backfillAfterAbsence(std::int64_t from, ledger::Millis since) {
  // What it lacks was written after it stopped (not older than then, clocks allowing) and is
  // older than log-hours now; away for less, etcd's log still held it all.
  const ledger::Millis lower = std::max<ledger::Millis>(0, since - kClockSkewMs);
  const ledger::Millis cut = backfillCut();
  if (lower >= cut) return Status::ok();
  const std::string marks = keys_.section("hw/seq/");
  auto pruned = client_->rangeModifiedSince(marks, prefixEnd(marks), from + 1, 1);
  if (!pruned) return pruned.status();
  if (pruned->kvs.empty()) return Status::ok();  // no prune since it stopped
  HistoryArchive::Backfill b{false, lower, cut, 0};
  if (auto under_way = archive_->backfill(); under_way && !under_way->done) {
    b.from = std::min(b.from, under_way->from);  // one back-fill covering both, from the start
  }
  return archive_->setBackfill(b);
}

Result<bool> EtcdStore::backfillStep(const HistoryArchive::Backfill& b) {
  ledger::EventQuery q;
  q.from = b.from;
  q.to = b.cut - 1;
  q.after_seq = b.after_seq;
  q.limit = kBackfillPage;
  auto page = history_source_(q);
  if (!page) return page.status();
  // Against the back-fill as it was asked for: a sync that widened it meanwhile starts it over.
  auto added = archive_->appendBackfill(b, *page);
  if (!added) return added.status();
  auto now = archive_->backfill();
  return now && !now->done;  // an empty page of the back-fill asked for ends it
}

void EtcdStore::awaitArchived(std::int64_t revision, std::chrono::milliseconds timeout) {
  std::unique_lock lock(archived_mu_);
  archived_cv_.wait_for(lock, timeout,
                        [&] { return archive_stale_ || archive_->revision() >= revision; });
}

Result<std::size_t> EtcdStore::pruneEvents(ledger::Millis before) {
  // What etcd's log holds and the archive does not yet must reach it before the log goes.
  if (!following_ || archive_stale_) NL_RETURN_IF_ERROR(syncArchive());
  auto pruned = archive_->prune(before);
  if (!pruned) return pruned.status();
  if (following_ && !leading()) return pruned;  // etcd's log is the elected replica's to prune
  NL_RETURN_IF_ERROR(pruneLog(std::max(before, wallMillis() - log_hours_ * 3'600'000)));
  return pruned;
}

// Deletes etcd's events older than `before` (keeping the seq high-water mark), then compacts.
Status EtcdStore::pruneLog(ledger::Millis before) {
  NL_RETURN_IF_ERROR(dropLegacyCopies());
  auto all = client_->rangeAll(keys_.section("ev/"), prefixEnd(keys_.section("ev/")));
  if (!all) return all.status();
  const std::size_t per_txn = std::min<std::size_t>(100, maxBatchCost());
  std::vector<TxnOp> ops;
  std::uint64_t top = 0;
  auto flush = [&]() -> Status {
    if (ops.empty()) return Status::ok();
    ops.push_back({false, keys_.seqMark(top), ""});
    auto r = client_->txn({}, ops);
    ops.clear();
    return r.status();
  };
  for (const auto& kv : all->kvs) {
    ledger::EventRecord e;
    NL_RETURN_IF_ERROR(decode(kv.value, e));
    if (e.time >= before) continue;
    ops.push_back({true, kv.key, {}});
    top = std::max(top, e.seq);
    if (ops.size() >= per_txn) NL_RETURN_IF_ERROR(flush());
  }
  NL_RETURN_IF_ERROR(flush());
  if (compact_below_ > 0) (void)client_->compact(compact_below_);  // already compacted: fine
  compact_below_ = all->revision;
  return Status::ok();
}

// Copies of events under each history key (hk/), written by builds before the archive: deleted
// a bounded chunk per transaction, a bounded number per prune, so that no watch has to carry
// millions of deletions in one response, and again at each prune while older builds still
// write them.
Status EtcdStore::dropLegacyCopies() {
  const std::string copies = keys_.section("hk/");
  for (int chunk = 0; chunk < 64; ++chunk) {
    auto some = client_->range(copies, prefixEnd(copies), 256);
    if (!some) return some.status();
    if (some->kvs.empty()) return Status::ok();
    auto gone = client_->txn(
        {}, {{true, some->kvs.front().key, {}, 0, some->kvs.back().key + std::string(1, '\0')}});
    if (!gone) return gone.status();
  }
  return Status::ok();
}

}  // namespace netledger::store::etcd
