#include "store/etcd/etcd_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "store/etcd/etcd_records.h"

namespace netledger::store::etcd {

namespace {

std::string randomWriterId() {
  std::random_device rd;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

template <typename Record>
Status decodeAll(const RangeResult& r, std::vector<Record>& out) {
  out.reserve(r.kvs.size());
  for (const auto& kv : r.kvs) {
    Record rec;
    NL_RETURN_IF_ERROR(decode(kv.value, rec));
    out.push_back(std::move(rec));
  }
  return Status::ok();
}

}  // namespace

EtcdStore::EtcdStore(std::string url, std::unique_ptr<EtcdClient> client, std::string prefix,
                     std::unique_ptr<HistoryArchive> archive, std::int64_t log_hours)
    : url_(std::move(url)),
      client_(std::move(client)),
      keys_(std::move(prefix)),
      writer_(randomWriterId()),
      archive_(std::move(archive)),
      log_hours_(log_hours) {}

EtcdStore::~EtcdStore() { stopFollowing(); }

Result<std::unique_ptr<EtcdStore>> EtcdStore::open(const std::string& url, EtcdTarget target,
                                                   EtcdCredentials credentials,
                                                   std::unique_ptr<ledger::Store> history) {
  auto archive = std::make_unique<HistoryArchive>(std::move(history));
  NL_RETURN_IF_ERROR(archive->open(target.prefix));
  std::string prefix = target.prefix;
  const std::int64_t log_hours = target.log_hours;
  auto client = EtcdClient::connect(std::move(target), std::move(credentials));
  if (!client) return client.status();
  std::unique_ptr<EtcdStore> store(
      new EtcdStore(url, std::move(*client), std::move(prefix), std::move(archive), log_hours));
  // An archive ahead of the cluster was kept for another cluster (or etcd lost its data).
  auto now = store->client_->range(store->keys_.section("meta/"), "", 1);
  if (!now) return now.status();
  if (store->archive_->revision() > now->revision) {
    return Status::invalidArgument(
        "history archive is at etcd revision " + std::to_string(store->archive_->revision()) +
        ", past this cluster's " + std::to_string(now->revision) +
        ": it holds another cluster's history (move it away to start a new one)");
  }
  auto slot = store->drawSlot();
  if (!slot) return slot.status();
  store->slot_ = *slot;
  store->client_->preferEndpoint(*slot);
  return store;
}

Result<std::uint32_t> EtcdStore::drawSlot() {
  const std::string key = keys_.section("meta/") + "slots";
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto now = client_->range(key, "", 1);
    if (!now) return now.status();
    std::uint64_t last = 0;
    Compare unchanged{key, Compare::Target::kCreateRevision, 0};
    if (!now->kvs.empty()) {
      last = std::strtoull(now->kvs[0].value.c_str(), nullptr, 10);
      unchanged = {key, Compare::Target::kModRevision, now->kvs[0].mod_revision};
    }
    const std::uint64_t next = last % 0xFFFFFFFFu + 1;  // never 0: that means "unshared"
    auto put = client_->txn({unchanged}, {{false, key, std::to_string(next)}});
    if (!put) return put.status();
    if (put->succeeded) return static_cast<std::uint32_t>(next);
  }
  return Status::unavailable("etcd: could not take a replica slot (meta/slots keeps changing)");
}

std::string EtcdStore::networkOfLocked(const std::string& pool) const {
  auto it = networks_.find(pool);
  return it != networks_.end() ? it->second : std::string("default");
}

std::vector<std::string> EtcdStore::claimsOfLocked(const ledger::BindingRecord& b) const {
  return claimKeys(keys_, b, [this](const std::string& pool) { return networkOfLocked(pool); });
}

// The highest number among the keys of `section` ("ev/"), at `revision`.
Result<std::uint64_t> EtcdStore::highest(const std::string& section, std::int64_t revision) {
  auto r = client_->range(keys_.section(section), prefixEnd(keys_.section(section)), 1, revision,
                          /*descending=*/true);
  if (!r) return r.status();
  return r->kvs.empty() ? 0 : trailingNumber(r->kvs[0].key);
}

Status EtcdStore::loadRecords(std::int64_t revision, ledger::StoreState& s) {
  // Reads one section and decodes it into `out`.
  auto section = [&](std::string_view name, auto& out) -> Status {
    std::string from = keys_.section(name);
    auto r = client_->rangeAll(from, prefixEnd(from), 2000, revision);
    if (!r) return r.status();
    for (const auto& kv : r->kvs) {
      // Version-guarded records: remember what was read, for the compares of later writes.
      if (name != "quar/") seen_[kv.key] = {0, kv.mod_revision};
    }
    return decodeAll(*r, out);
  };
  NL_RETURN_IF_ERROR(section("pool/", s.pools));
  NL_RETURN_IF_ERROR(section("macpool/", s.mac_pools));
  NL_RETURN_IF_ERROR(section("bind/", s.bindings));
  NL_RETURN_IF_ERROR(section("token/", s.tokens));
  NL_RETURN_IF_ERROR(section("quar/", s.quarantine));
  return section("doc/", s.documents);
}

Result<ledger::StoreState> EtcdStore::load() {
  // The ledger rebuilds its memory from this after an overtaken batch: a member going away at
  // that moment should cost a retry on another member, not a stale ledger (which the ledger
  // keeps, and reloads later, when this fails).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (true) {
    auto s = loadOnce();
    // History the watch did not bring (before this load, or while this replica was away) is
    // read from etcd's log by the archive thread (or the next query), not here: a load may run
    // under the ledger's lock, and that log may be long.
    if (s.isOk()) {
      std::lock_guard lock(archived_mu_);
      archive_stale_ = true;
      archived_cv_.notify_all();
    }
    if (s.isOk() || s.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() > deadline) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<ledger::StoreState> EtcdStore::loadOnce() {
  std::lock_guard lock(mu_);
  auto now = client_->range(keys_.section("meta/"), "", 1);
  if (!now) return now.status();
  const std::int64_t revision = now->revision;
  seen_.clear();
  claims_.clear();
  networks_.clear();
  ledger::StoreState s;
  NL_RETURN_IF_ERROR(loadRecords(revision, s));
  // The versions of what was read (seen_ holds the revisions so far).
  for (const auto& p : s.pools) seen_[keys_.pool(p.name)].version = p.version;
  for (const auto& p : s.mac_pools) seen_[keys_.macPool(p.name)].version = p.version;
  for (const auto& t : s.tokens) seen_[keys_.token(t.name)].version = t.version;
  for (const auto& d : s.documents) seen_[keys_.document(d.kind, d.key)].version = d.version;
  for (const auto& p : s.pools) networks_[p.name] = p.network;
  for (const auto& b : s.bindings) {
    seen_[keys_.binding(b.id)].version = b.version;
    if (auto held = claimsOfLocked(b); !held.empty()) claims_[b.id] = std::move(held);
  }
  auto last_event = highest("ev/", revision);
  auto pruned = highest("hw/seq/", revision);
  auto deleted = highest("hw/bind/", revision);
  for (const auto* r : {&last_event, &pruned, &deleted}) {
    if (!r->isOk()) return r->status();
  }
  s.last_event_seq = std::max(*last_event, *pruned);
  last_seq_ = s.last_event_seq;
  s.last_binding_id = std::max(*deleted, s.bindings.empty() ? 0 : s.bindings.back().id);
  loaded_revision_ = revision;
  markFed(revision);  // what was loaded is what memory will hold
  s.last_event_position = (static_cast<std::uint64_t>(revision) + 1) << kRankBits;
  --s.last_event_position;  // every rank of `revision`
  return s;
}

Result<std::vector<ledger::EventRecord>> EtcdStore::eventsAfter(std::uint64_t after,
                                                                std::size_t limit) {
  const std::string section = keys_.section("ev/");
  std::int64_t from = std::max<std::int64_t>(1, static_cast<std::int64_t>(after >> kRankBits));
  std::int64_t page = static_cast<std::int64_t>(std::clamp<std::size_t>(limit * 2, 16, 4000));
  while (true) {
    auto r = client_->rangeModifiedSince(section, prefixEnd(section), from, page);
    if (!r) return r.status();
    std::vector<std::pair<std::int64_t, ledger::EventRecord>> got;  // (revision, event)
    for (const auto& kv : r->kvs) {
      ledger::EventRecord e;
      NL_RETURN_IF_ERROR(decode(kv.value, e));
      got.emplace_back(kv.mod_revision, std::move(e));
    }
    const std::int64_t last = got.empty() ? from : got.back().first;
    if (r->more && !got.empty()) {
      // The page may end inside a transaction: leave its last revision to the next page.
      if (got.front().first == last) {
        page *= 4;  // one transaction fills the page: read it whole
        continue;
      }
      std::erase_if(got, [&](const auto& g) { return g.first == last; });
    }
    std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second.seq < b.second.seq;
    });
    std::vector<ledger::EventRecord> out;
    std::uint64_t rank = 0;
    for (std::size_t i = 0; i < got.size() && out.size() < limit; ++i) {
      rank = i > 0 && got[i - 1].first == got[i].first ? rank + 1 : 0;
      got[i].second.position = positionOf(got[i].first, rank);
      if (got[i].second.position > after) out.push_back(std::move(got[i].second));
    }
    if (!out.empty() || !r->more) return out;
    from = last;  // everything before `last` was at or before `after`
  }
}

Status EtcdStore::snapshotTo(const std::string& path) {
  (void)path;
  return Status::invalidArgument(
      "the etcd store is copied with etcd's own tools (etcdctl snapshot save), not by netledgerd");
}

}  // namespace netledger::store::etcd
