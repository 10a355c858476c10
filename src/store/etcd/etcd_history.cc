// EtcdStore's history: queries answered from the replica's archive (etcd_archive.h), the archive
// kept up with etcd's log of events, and both pruned.
#include <algorithm>
#include <chrono>

#include "store/etcd/etcd_records.h"
#include "store/etcd/etcd_store.h"

namespace netledger::store::etcd {

namespace {

std::int64_t revisionOf(const ledger::EventRecord& e) {
  return static_cast<std::int64_t>(e.position >> EtcdStore::kRankBits);
}

}  // namespace

Result<std::vector<ledger::EventRecord>> EtcdStore::queryEvents(const ledger::EventQuery& q) {
  if (following_ && !archive_stale_) {
    awaitArchived(committed_revision_.load(), std::chrono::seconds(2));
  } else if (Status s = syncArchive(); !s.isOk() && !following_) {
    return s;  // while following, a stale archive still answers (reads outlive the quorum)
  }
  return archive_->query(q);
}

Status EtcdStore::syncArchive() {
  std::size_t limit = 1024;
  while (true) {
    const std::int64_t from = archive_->revision();
    auto page = eventsAfter(positionOf(from, SIZE_MAX), limit);
    if (!page) return page.status();
    if (page->empty()) break;
    std::vector<std::int64_t> revisions;
    for (const auto& e : *page) revisions.push_back(revisionOf(e));
    std::int64_t through = revisions.back();
    if (page->size() == limit) {  // the last transaction may go on past the page
      if (revisions.front() == through) {
        limit *= 4;  // one transaction fills the page: read it whole
        continue;
      }
      while (revisions.back() == through) {
        revisions.pop_back();
        page->pop_back();
      }
      through = revisions.back();
    }
    NL_RETURN_IF_ERROR(archive_->append(*page, revisions, through));
  }
  archive_stale_ = false;
  archived_cv_.notify_all();
  return Status::ok();
}

void EtcdStore::archiveFed(const std::vector<ledger::EventRecord>& events,
                           const std::vector<std::int64_t>& revisions, std::int64_t through) {
  if (archive_stale_) return;  // the next query reads the gap from etcd's log
  if (!archive_->append(events, revisions, through).isOk()) {
    archive_stale_ = true;
    return;
  }
  std::lock_guard lock(archived_mu_);
  archived_cv_.notify_all();
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
  const ledger::Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  NL_RETURN_IF_ERROR(pruneLog(std::max(before, now - log_hours_ * 3'600'000)));
  return pruned;
}

// Deletes etcd's events older than `before` (keeping the seq high-water mark), then compacts.
Status EtcdStore::pruneLog(ledger::Millis before) {
  auto all = client_->rangeAll(keys_.section("ev/"), prefixEnd(keys_.section("ev/")));
  if (!all) return all.status();
  std::vector<TxnOp> ops;
  if (!legacy_copies_gone_) {  // copies under each history key, written before the archive
    const std::string copies = keys_.section("hk/");
    ops.push_back({true, copies, {}, 0, prefixEnd(copies)});
  }
  std::uint64_t top = 0;
  auto flush = [&]() -> Status {
    if (ops.empty()) return Status::ok();
    if (top != 0) ops.push_back({false, keys_.seqMark(top), ""});
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
    if (ops.size() >= 100) NL_RETURN_IF_ERROR(flush());
  }
  NL_RETURN_IF_ERROR(flush());
  legacy_copies_gone_ = true;
  if (compact_below_ > 0) (void)client_->compact(compact_below_);  // already compacted: fine
  compact_below_ = all->revision;
  return Status::ok();
}

}  // namespace netledger::store::etcd
