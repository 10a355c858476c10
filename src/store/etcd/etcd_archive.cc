#include "store/etcd/etcd_archive.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

namespace netledger::store::etcd {

namespace {

// The archive's own bookkeeping: a document of its store, keyed by the ledger's etcd prefix,
// holding the revision it is complete through and when it got there ("REVISION TIME"; the first
// builds wrote "REVISION"), written in the same transaction as the events.
constexpr const char* kMarkerKind = "etcd-archive";
// The back-fill's progress, keyed the same way: "done", or "FROM CUT AFTER_SEQ".
constexpr const char* kBackfillKind = "etcd-archive-backfill";

template <typename T>
bool parseWhole(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::optional<HistoryArchive::Backfill> parseBackfill(std::string_view body) {
  HistoryArchive::Backfill b;
  if (body == "done") {
    b.done = true;
    return b;
  }
  const std::size_t one = body.find(' ');
  const std::size_t two = one == std::string_view::npos ? one : body.find(' ', one + 1);
  if (two == std::string_view::npos || !parseWhole(body.substr(0, one), b.from) ||
      !parseWhole(body.substr(one + 1, two - one - 1), b.cut) ||
      !parseWhole(body.substr(two + 1), b.after_seq)) {
    return std::nullopt;
  }
  return b;
}

}  // namespace

HistoryArchive::HistoryArchive(std::unique_ptr<ledger::Store> store) : store_(std::move(store)) {}

Status HistoryArchive::open(const std::string& prefix) {
  std::lock_guard lock(mu_);
  prefix_ = prefix;
  auto state = store_->load();
  if (!state) return state.status().withContext("history archive " + store_->url());
  const ledger::DocumentRecord* mine = nullptr;
  const ledger::DocumentRecord* unkeyed = nullptr;  // the first build's marker ("revision")
  for (const auto& d : state->documents) {
    if (d.kind == kBackfillKind && d.key == prefix) {
      backfill_ = parseBackfill(d.body);
      if (!backfill_) {
        return Status::internal("history archive " + store_->url() +
                                ": unreadable back-fill marker \"" + d.body + "\"");
      }
      backfill_version_ = d.version;
    }
    if (d.kind != kMarkerKind) continue;
    if (d.key == prefix) {
      mine = &d;
    } else if (d.key == "revision") {
      unkeyed = &d;
    } else {
      return Status::invalidArgument("history archive " + store_->url() +
                                     " holds the history of the ledger under etcd prefix \"" +
                                     d.key + "\", not \"" + prefix + "\": give each its own");
    }
  }
  const ledger::DocumentRecord* marker = mine != nullptr ? mine : unkeyed;
  if (marker == nullptr) return Status::ok();
  std::int64_t r = 0;
  const std::string_view body = marker->body;
  const std::size_t space = body.find(' ');
  if (!parseWhole(body.substr(0, space), r) ||
      (space != std::string_view::npos && !parseWhole(body.substr(space + 1), revision_time_))) {
    return Status::internal("history archive " + store_->url() + ": unreadable revision \"" +
                            marker->body + "\"");
  }
  revision_ = r;
  marker_version_ = mine != nullptr ? mine->version : 0;  // the keyed marker is written next
  return Status::ok();
}

std::int64_t HistoryArchive::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

ledger::Millis HistoryArchive::revisionTime() const {
  std::lock_guard lock(mu_);
  return revision_time_;
}

Status HistoryArchive::append(const std::vector<ledger::EventRecord>& events,
                              const std::vector<std::int64_t>& revisions, std::int64_t first,
                              std::int64_t through) {
  std::lock_guard lock(mu_);
  if (through <= revision_) return Status::ok();
  if (first > revision_ + 1) {
    return Status::aborted("history archive: revisions " + std::to_string(revision_ + 1) + " to " +
                           std::to_string(first - 1) + " are missing");
  }
  std::vector<ledger::Write> batch;
  for (std::size_t i = 0; i < events.size() && i < revisions.size(); ++i) {
    if (revisions[i] > revision_) batch.push_back(ledger::AppendEvent{events[i]});
  }
  const ledger::Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  ledger::DocumentRecord marker{kMarkerKind, prefix_,
                                std::to_string(through) + " " + std::to_string(now),
                                marker_version_ + 1, 0};
  batch.push_back(ledger::PutDocument{std::move(marker), marker_version_});
  NL_RETURN_IF_ERROR(store_->apply(batch));
  ++marker_version_;
  revision_ = through;
  revision_time_ = now;
  return Status::ok();
}

Result<std::vector<ledger::EventRecord>> HistoryArchive::query(const ledger::EventQuery& q) {
  return store_->queryEvents(q);  // thread-safe on its own; no need to wait for an append
}

Result<std::size_t> HistoryArchive::prune(ledger::Millis before) {
  std::lock_guard lock(mu_);
  return store_->pruneEvents(before);
}

std::optional<HistoryArchive::Backfill> HistoryArchive::backfill() const {
  std::lock_guard lock(mu_);
  return backfill_;
}

ledger::PutDocument HistoryArchive::backfillMarkerLocked(const Backfill& b) const {
  std::string body = b.done ? "done"
                            : std::to_string(b.from) + " " + std::to_string(b.cut) + " " +
                                  std::to_string(b.after_seq);
  return ledger::PutDocument{
      ledger::DocumentRecord{kBackfillKind, prefix_, std::move(body), backfill_version_ + 1, 0},
      backfill_version_};
}

Status HistoryArchive::setBackfill(const Backfill& b) {
  std::lock_guard lock(mu_);
  NL_RETURN_IF_ERROR(store_->apply({backfillMarkerLocked(b)}));
  ++backfill_version_;
  backfill_ = b;
  return Status::ok();
}

Result<std::vector<std::uint64_t>> HistoryArchive::heldSeqsLocked(std::uint64_t after,
                                                                  std::uint64_t through,
                                                                  ledger::Millis from,
                                                                  ledger::Millis to) {
  std::vector<std::uint64_t> held;
  ledger::EventQuery q;
  q.after_seq = after;
  q.from = from;
  q.to = to;
  q.limit = 1000;
  while (q.after_seq < through) {
    auto some = store_->queryEvents(q);
    if (!some) return some.status();
    for (const auto& e : *some) {
      if (e.seq <= through) held.push_back(e.seq);
    }
    if (some->size() < q.limit || some->back().seq >= through) break;
    q.after_seq = some->back().seq;
  }
  return held;
}

Result<std::size_t> HistoryArchive::appendBackfill(const Backfill& asked,
                                                   const std::vector<ledger::EventRecord>& page) {
  std::lock_guard lock(mu_);
  if (!backfill_ || backfill_->done || backfill_->from != asked.from ||
      backfill_->cut != asked.cut || backfill_->after_seq != asked.after_seq) {
    return 0;  // not the back-fill this page was asked for
  }
  Backfill next = *backfill_;
  std::vector<ledger::Write> batch;
  if (page.empty()) {
    next.done = true;
  } else {
    // The events etcd's log still held when the archive began (or the feed brought since) are
    // here already: a seq is one event, so those are left out. Only the seqs the page spans are
    // looked up (it is ascending), not the whole archive after after_seq.
    const std::uint64_t front = page.front().seq;
    const std::uint64_t first = std::max(next.after_seq, front > 0 ? front - 1 : 0);
    auto held = heldSeqsLocked(first, page.back().seq, next.from, next.cut - 1);
    if (!held) return held.status();
    for (const auto& e : page) {
      // Not what was asked for: left out.
      if (e.seq <= next.after_seq || e.time < next.from || e.time >= next.cut) continue;
      if (std::binary_search(held->begin(), held->end(), e.seq)) continue;
      batch.push_back(ledger::AppendEvent{e});
    }
    next.after_seq = std::max(next.after_seq, page.back().seq);
  }
  const std::size_t added = batch.size();
  batch.push_back(backfillMarkerLocked(next));
  NL_RETURN_IF_ERROR(store_->apply(batch));
  ++backfill_version_;
  backfill_ = next;
  return added;
}

}  // namespace netledger::store::etcd
