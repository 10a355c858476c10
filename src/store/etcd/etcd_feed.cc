// EtcdStore's change feed: a watch on the prefix from the revision after the last load. Every
// transaction is one revision; a revision that touches this process's writer key is its own
// batch (already in memory) and is skipped, every other one becomes a batch of ledger writes for
// the sink. A revision the last load() already read is skipped too. A compaction that removed
// revisions not yet delivered makes the sink reload.
#include <algorithm>
#include <chrono>
#include <map>

#include "store/etcd/etcd_records.h"
#include "store/etcd/etcd_store.h"

namespace netledger::store::etcd {

namespace {

// "KIND\0POOL\0KEY" -> the three parts.
bool splitQuarantine(std::string_view rest, ledger::DeleteQuarantine& out) {
  std::size_t a = rest.find('\0');
  if (a == std::string_view::npos) return false;
  std::size_t b = rest.find('\0', a + 1);
  if (b == std::string_view::npos) return false;
  out.kind = rest.substr(0, a);
  out.pool = rest.substr(a + 1, b - a - 1);
  out.key = rest.substr(b + 1);
  return true;
}

// Gives the events of the transaction at `revision` their places in the global order: the
// transaction's revision, then their seqs (rank within it). eventsAfter() computes the same.
void placeEvents(std::vector<ledger::Write>& writes, std::int64_t revision) {
  std::vector<ledger::EventRecord*> events;
  for (ledger::Write& w : writes) {
    if (auto* e = std::get_if<ledger::AppendEvent>(&w)) events.push_back(&e->event);
  }
  std::sort(events.begin(), events.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  std::uint64_t rank = 0;
  for (ledger::EventRecord* e : events) e->position = EtcdStore::positionOf(revision, rank++);
}

template <typename Record>
bool decodeInto(const KeyValue& kv, Record& out) {
  return decode(kv.value, out).isOk();
}

}  // namespace

Status EtcdStore::follow(ChangeSink sink) {
  std::lock_guard lock(mu_);
  if (feed_.joinable()) return Status::ok();
  sink_ = std::move(sink);
  next_revision_ = loaded_revision_ + 1;
  stopping_ = false;
  following_ = true;
  feed_ = std::thread([this] { feedLoop(); });
  campaign_ = std::thread([this] { campaignLoop(); });
  archiver_ = std::thread([this] { archiveLoop(); });
  return Status::ok();
}

void EtcdStore::stopFollowing() {
  {
    std::lock_guard lock(campaign_mu_);
    stopping_ = true;
  }
  campaign_cv_.notify_all();
  {
    std::lock_guard lock(archived_mu_);
    archived_cv_.notify_all();
  }
  client_->stopWatch();
  if (feed_.joinable()) feed_.join();
  if (campaign_.joinable()) campaign_.join();
  if (archiver_.joinable()) archiver_.join();
  following_ = false;
}

void EtcdStore::markFed(std::int64_t revision) {
  {
    std::lock_guard lock(fed_mu_);
    fed_revision_ = std::max(fed_revision_, revision);
  }
  fed_cv_.notify_all();
}

std::uint64_t EtcdStore::readPosition() const {
  std::lock_guard lock(fed_mu_);
  return static_cast<std::uint64_t>(fed_revision_);
}

Status EtcdStore::catchUp(std::chrono::milliseconds timeout) {
  const std::string from = keys_.prefix();
  // Every transaction puts its writer's w/ key, so the prefix's newest mod_revision is the
  // revision of its newest transaction.
  auto newest = client_->latestModRevision(from, prefixEnd(from));
  if (!newest) return newest.status();
  std::unique_lock lock(fed_mu_);
  if (fed_cv_.wait_for(lock, timeout, [&] { return fed_revision_ >= *newest; })) {
    return Status::ok();
  }
  const std::int64_t behind = *newest - fed_revision_;
  lock.unlock();
  client_->breakWatch();  // its member may be hung: watch from the next one
  return Status::unavailable("this replica has not yet seen the last " + std::to_string(behind) +
                             " revisions of etcd (its watch is being moved to another member)");
}

void EtcdStore::feedLoop() {
  const std::string from = keys_.prefix();
  while (!stopping_) {
    Status s = client_->watch(from, prefixEnd(from), next_revision_,
                              [this](const WatchBatch& b) { return !stopping_ && deliver(b); });
    if (stopping_) return;
    // The member went away or the stream broke: resume from the next revision, on the next
    // member if this one is gone.
    (void)s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool EtcdStore::deliver(const WatchBatch& batch) {
  // Events arrive in revision order; each revision is one writer's transaction.
  std::map<std::int64_t, std::vector<const WatchEvent*>> revisions;
  for (const auto& e : batch.events) revisions[e.kv.mod_revision].push_back(&e);
  std::vector<ledger::EventRecord> archived;  // every writer's events, for the history archive
  std::vector<std::int64_t> archived_at;
  const std::int64_t first = next_revision_;  // this batch holds every revision from here
  std::int64_t through = 0;
  for (const auto& [revision, events] : revisions) {
    if (revision < next_revision_) continue;
    next_revision_ = revision + 1;
    through = revision;
    bool own = false;
    for (const auto* e : events) own = own || e->kv.key == keys_.writer(writer_);
    std::vector<ledger::Write> writes;
    {
      std::lock_guard lock(mu_);
      if (revision <= loaded_revision_) {
        markFed(revision);  // already in memory; its events still go to the archive
        for (const WatchEvent* e : events) {
          ledger::EventRecord ev;
          if (!e->is_delete && keys_.in(e->kv.key, "ev/") && decodeInto(e->kv, ev)) {
            archived.push_back(std::move(ev));
            archived_at.push_back(revision);
          }
        }
        continue;
      }
      writes = writesOf(events, own);
    }
    placeEvents(writes, revision);
    for (const ledger::Write& w : writes) {  // every writer's events, ours included
      if (const auto* e = std::get_if<ledger::AppendEvent>(&w)) {
        archived.push_back(e->event);
        archived_at.push_back(revision);
      }
    }
    if (!writes.empty() && sink_) (void)sink_(std::move(writes));
    markFed(revision);
  }
  if (through != 0) archiveFed(archived, archived_at, first, through);
  if (batch.compact_revision > 0) {
    // etcd compacted revisions this replica had not seen: what they changed is lost to the
    // watch. Ask the sink to reload (an empty batch) and watch on from what that load read.
    if (sink_) (void)sink_({});
    std::lock_guard lock(mu_);
    next_revision_ = loaded_revision_ + 1;
    return false;
  }
  return true;
}

// The ledger writes one transaction of another writer stands for, remembering what it changed
// (mu_ held); of our `own` transactions, only their events (the rest is in memory and in what
// we remember already). Holder keys, marks and event indexes are bookkeeping, not writes.
std::vector<ledger::Write> EtcdStore::writesOf(const std::vector<const WatchEvent*>& events,
                                               bool own) {
  std::vector<ledger::Write> out;
  for (const WatchEvent* e : events) {
    const KeyValue& kv = e->kv;
    if (own && !keys_.in(kv.key, "ev/")) continue;
    // Version-guarded records only (not holder keys, marks or event indexes): what the compares
    // of this replica's next transactions are built from.
    const bool record = keys_.in(kv.key, "pool/") || keys_.in(kv.key, "macpool/") ||
                        keys_.in(kv.key, "bind/") || keys_.in(kv.key, "token/") ||
                        keys_.in(kv.key, "doc/");
    if (record && e->is_delete) {
      seen_.erase(kv.key);
    } else if (record) {
      seen_[kv.key].mod_revision = kv.mod_revision;
    }
    if (auto name = keys_.in(kv.key, "pool/")) {
      ledger::PoolRecord p;
      if (e->is_delete) {
        networks_.erase(std::string(*name));
        out.push_back(ledger::DeletePool{std::string(*name), 0});
      } else if (decodeInto(kv, p)) {
        seen_[kv.key].version = p.version;
        networks_[p.name] = p.network;
        out.push_back(ledger::PutPool{std::move(p), 0});
      }
    } else if (auto mname = keys_.in(kv.key, "macpool/")) {
      ledger::MacPoolRecord p;
      if (e->is_delete) {
        out.push_back(ledger::DeleteMacPool{std::string(*mname), 0});
      } else if (decodeInto(kv, p)) {
        seen_[kv.key].version = p.version;
        out.push_back(ledger::PutMacPool{std::move(p), 0});
      }
    } else if (keys_.in(kv.key, "bind/")) {
      const std::uint64_t id = trailingNumber(kv.key);
      ledger::BindingRecord b;
      if (e->is_delete) {
        claims_.erase(id);
        out.push_back(ledger::DeleteBinding{id, 0});
      } else if (decodeInto(kv, b)) {
        seen_[kv.key].version = b.version;
        claims_[id] = claimsOfLocked(b);
        out.push_back(ledger::PutBinding{std::move(b), 0});
      }
    } else if (auto tname = keys_.in(kv.key, "token/")) {
      ledger::TokenRecord t;
      if (e->is_delete) {
        out.push_back(ledger::DeleteToken{std::string(*tname), 0});
      } else if (decodeInto(kv, t)) {
        seen_[kv.key].version = t.version;
        out.push_back(ledger::PutToken{std::move(t), 0});
      }
    } else if (auto doc = keys_.in(kv.key, "doc/")) {
      ledger::DocumentRecord d;
      std::size_t sep = doc->find('\0');
      if (e->is_delete && sep != std::string_view::npos) {
        out.push_back(ledger::DeleteDocument{std::string(doc->substr(0, sep)),
                                             std::string(doc->substr(sep + 1)), 0});
      } else if (!e->is_delete && decodeInto(kv, d)) {
        seen_[kv.key].version = d.version;
        out.push_back(ledger::PutDocument{std::move(d), 0});
      }
    } else if (auto q = keys_.in(kv.key, "quar/")) {
      ledger::QuarantineRecord entry;
      ledger::DeleteQuarantine gone;
      if (e->is_delete && splitQuarantine(*q, gone)) {
        out.push_back(std::move(gone));
      } else if (!e->is_delete && decodeInto(kv, entry)) {
        out.push_back(ledger::PutQuarantine{std::move(entry)});
      }
    } else if (keys_.in(kv.key, "ev/") && !e->is_delete) {
      ledger::EventRecord ev;
      if (decodeInto(kv, ev)) {
        last_seq_ = std::max(last_seq_, ev.seq);
        out.push_back(ledger::AppendEvent{std::move(ev)});
      }
    }
  }
  return out;
}

}  // namespace netledger::store::etcd
