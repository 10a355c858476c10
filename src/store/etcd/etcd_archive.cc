#include "store/etcd/etcd_archive.h"

#include <charconv>
#include <string>

namespace netledger::store::etcd {

namespace {

// The archive's own bookkeeping: a document of its store, keyed by the ledger's etcd prefix,
// holding the revision it is complete through, written in the same transaction as the events.
constexpr const char* kMarkerKind = "etcd-archive";

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
  auto [end, ec] =
      std::from_chars(marker->body.data(), marker->body.data() + marker->body.size(), r);
  if (ec != std::errc() || end != marker->body.data() + marker->body.size()) {
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
  ledger::DocumentRecord marker{kMarkerKind, prefix_, std::to_string(through), marker_version_ + 1,
                                0};
  batch.push_back(ledger::PutDocument{std::move(marker), marker_version_});
  NL_RETURN_IF_ERROR(store_->apply(batch));
  ++marker_version_;
  revision_ = through;
  return Status::ok();
}

Result<std::vector<ledger::EventRecord>> HistoryArchive::query(const ledger::EventQuery& q) {
  return store_->queryEvents(q);  // thread-safe on its own; no need to wait for an append
}

Result<std::size_t> HistoryArchive::prune(ledger::Millis before) {
  std::lock_guard lock(mu_);
  return store_->pruneEvents(before);
}

}  // namespace netledger::store::etcd
