// EtcdStore::apply: a batch of writes becomes one guarded etcd transaction.
//
// Each key appears once in the transaction (etcd refuses duplicates), so later writes of a key
// in the batch replace earlier ones; versions are checked against the batch's own earlier
// writes first, then against what this process last saw, and each record key's first touch adds
// the compare that makes the check hold in etcd too (mod_revision unchanged, or not created).
#include <algorithm>
#include <chrono>
#include <set>

#include "store/conflict.h"
#include "store/etcd/etcd_records.h"
#include "store/etcd/etcd_store.h"
#include "store/overloaded.h"

namespace netledger::store::etcd {

using ledger::Write;

class EtcdStore::TxnPlan {
 public:
  explicit TxnPlan(EtcdStore& s) : s_(s) {}

  Status add(const Write& w);
  // After the transaction succeeded at `revision`: what this process has now seen.
  void rememberLocked(std::int64_t revision);

  std::vector<Compare> compares;
  std::vector<TxnOp> ops;

 private:
  Status record(const std::string& key, const std::string& name, std::uint64_t expected,
                std::optional<std::uint64_t> next);
  Status binding(const ledger::BindingRecord* b, std::uint64_t id, std::uint64_t expected);
  void put(const std::string& key, std::string value);
  void erase(const std::string& key);
  void mustNotExist(const std::string& key);
  // No other writer changed the pools of `network` after `read_at` (Keys::poolGuard).
  void guardPools(const std::string& network, std::uint64_t read_at);
  const std::vector<std::string>& claimsOf(std::uint64_t id);

  EtcdStore& s_;
  std::map<std::string, std::optional<std::uint64_t>> versions_;  // after the writes so far
  std::map<std::uint64_t, std::vector<std::string>> claims_;      // after the writes so far
  std::map<std::string, std::string> networks_;                   // pools put in this batch
  std::map<std::string, std::size_t> op_at_;                      // key -> index in ops
  std::set<std::string> compared_;
  std::map<std::string, std::size_t> guards_;  // pool guard key -> index in compares
};

void EtcdStore::TxnPlan::put(const std::string& key, std::string value) {
  auto [it, fresh] = op_at_.emplace(key, ops.size());
  if (fresh) {
    ops.push_back({false, key, std::move(value)});
  } else {
    ops[it->second] = {false, key, std::move(value)};
  }
}

void EtcdStore::TxnPlan::erase(const std::string& key) {
  auto [it, fresh] = op_at_.emplace(key, ops.size());
  if (fresh) {
    ops.push_back({true, key, {}});
  } else {
    ops[it->second] = {true, key, {}};
  }
}

void EtcdStore::TxnPlan::mustNotExist(const std::string& key) {
  if (compared_.insert(key).second) compares.push_back({key, Compare::Target::kCreateRevision, 0});
}

void EtcdStore::TxnPlan::guardPools(const std::string& network, std::uint64_t read_at) {
  const std::string key = s_.keys_.poolGuard(network);
  // Changed at or before read_at, the other writer's pools were in memory for the check; our
  // own last put of the guard is no news either (a later foreign put would be above it).
  if (read_at == 0) read_at = s_.readPosition();
  auto own = s_.seen_.find(key);
  const std::int64_t bound =
      std::max(static_cast<std::int64_t>(read_at),
               own != s_.seen_.end() ? own->second.mod_revision : std::int64_t{0});
  auto [at, added] = guards_.try_emplace(key, compares.size());
  if (!added) {  // two pool writes of one network in a batch: the earlier decision binds
    compares[at->second].value = std::min(compares[at->second].value, bound + 1);
    return;
  }
  compares.push_back({key, Compare::Target::kModRevision, bound + 1, Compare::Op::kLess});
  put(key, "");
}

Status EtcdStore::TxnPlan::record(const std::string& key, const std::string& name,
                                  std::uint64_t expected, std::optional<std::uint64_t> next) {
  std::optional<std::uint64_t> current;
  if (auto o = versions_.find(key); o != versions_.end()) {
    current = o->second;
  } else {
    auto seen = s_.seen_.find(key);
    if (seen != s_.seen_.end()) current = seen->second.version;
    if (compared_.insert(key).second) {
      compares.push_back(
          seen != s_.seen_.end()
              ? Compare{key, Compare::Target::kModRevision, seen->second.mod_revision}
              : Compare{key, Compare::Target::kCreateRevision, 0});
    }
  }
  if (expected == 0 ? current.has_value() : current != expected) {
    return versionConflict(name, expected, current);
  }
  versions_[key] = next;
  return Status::ok();
}

const std::vector<std::string>& EtcdStore::TxnPlan::claimsOf(std::uint64_t id) {
  auto it = claims_.find(id);
  if (it != claims_.end()) return it->second;
  auto held = s_.claims_.find(id);
  return claims_[id] = held != s_.claims_.end() ? held->second : std::vector<std::string>{};
}

// A binding put (b) or delete (b == nullptr): its record, and its holder keys — the ones it
// takes must be free (unless this batch frees them), the ones it gives up are deleted.
Status EtcdStore::TxnPlan::binding(const ledger::BindingRecord* b, std::uint64_t id,
                                   std::uint64_t expected) {
  const std::string key = s_.keys_.binding(id);
  NL_RETURN_IF_ERROR(
      record(key, bindingRecordName(id), expected, b ? std::optional(b->version) : std::nullopt));
  std::vector<std::string> now;
  if (b != nullptr) {
    now = claimKeys(s_.keys_, *b, [&](const std::string& pool) {
      auto net = networks_.find(pool);
      return net != networks_.end() ? net->second : s_.networkOfLocked(pool);
    });
    put(key, encode(*b));
  } else {
    erase(key);
    put(s_.keys_.bindingMark(id), "");
  }
  const std::vector<std::string> before = claimsOf(id);
  const std::string holder = std::to_string(id);
  for (const auto& k : now) {
    if (std::find(before.begin(), before.end(), k) != before.end()) continue;
    auto op = op_at_.find(k);
    // Freed earlier in this batch (a VIP moving): the freeing binding's compare guards it.
    if (op == op_at_.end() || !ops[op->second].is_delete) mustNotExist(k);
    put(k, holder);
  }
  for (const auto& k : before) {
    if (std::find(now.begin(), now.end(), k) == now.end()) erase(k);
  }
  claims_[id] = std::move(now);
  return Status::ok();
}

Status EtcdStore::TxnPlan::add(const Write& write) {
  const Keys& k = s_.keys_;
  return std::visit(
      Overloaded{
          [&](const ledger::PutPool& w) {
            // Overlap is judged in memory against the pools of the network: guard that view.
            // (Leaving a network cannot make an overlap there; only the one it joins counts.)
            guardPools(w.pool.network, w.read_at);
            networks_[w.pool.name] = w.pool.network;
            put(k.pool(w.pool.name), encode(w.pool));
            return record(k.pool(w.pool.name), poolRecordName(w.pool.name), w.expected_version,
                          w.pool.version);
          },
          [&](const ledger::DeletePool& w) {
            erase(k.pool(w.name));
            return record(k.pool(w.name), poolRecordName(w.name), w.expected_version, std::nullopt);
          },
          [&](const ledger::PutMacPool& w) {
            put(k.macPool(w.pool.name), encode(w.pool));
            return record(k.macPool(w.pool.name), macPoolRecordName(w.pool.name),
                          w.expected_version, w.pool.version);
          },
          [&](const ledger::DeleteMacPool& w) {
            erase(k.macPool(w.name));
            return record(k.macPool(w.name), macPoolRecordName(w.name), w.expected_version,
                          std::nullopt);
          },
          [&](const ledger::PutBinding& w) {
            return binding(&w.binding, w.binding.id, w.expected_version);
          },
          [&](const ledger::DeleteBinding& w) {
            return binding(nullptr, w.id, w.expected_version);
          },
          [&](const ledger::PutToken& w) {
            put(k.token(w.token.name), encode(w.token));
            return record(k.token(w.token.name), tokenRecordName(w.token.name), w.expected_version,
                          w.token.version);
          },
          [&](const ledger::DeleteToken& w) {
            erase(k.token(w.name));
            return record(k.token(w.name), tokenRecordName(w.name), w.expected_version,
                          std::nullopt);
          },
          [&](const ledger::PutDocument& w) {
            const auto& d = w.document;
            put(k.document(d.kind, d.key), encode(d));
            return record(k.document(d.kind, d.key), documentRecordName(d.kind, d.key),
                          w.expected_version, d.version);
          },
          [&](const ledger::DeleteDocument& w) {
            erase(k.document(w.kind, w.key));
            return record(k.document(w.kind, w.key), documentRecordName(w.kind, w.key),
                          w.expected_version, std::nullopt);
          },
          [&](const ledger::PutQuarantine& w) {
            put(k.quarantine(w.entry.kind, w.entry.pool, w.entry.key), encode(w.entry));
            return Status::ok();
          },
          [&](const ledger::DeleteQuarantine& w) {
            erase(k.quarantine(w.kind, w.pool, w.key));
            return Status::ok();
          },
          [&](const ledger::AppendEvent& w) {
            const auto& e = w.event;
            if (e.seq == 0) return Status::invalidArgument("event: seq must be set (> 0)");
            if (op_at_.count(k.event(e.seq)) != 0) {
              return Status::conflict(eventRecordName(e.seq) + ": already exists");
            }
            mustNotExist(k.event(e.seq));
            put(k.event(e.seq), encode(e));  // indexed by history key in each replica's archive
            return Status::ok();
          },
      },
      write);
}

void EtcdStore::TxnPlan::rememberLocked(std::int64_t revision) {
  for (const auto& [key, at] : guards_) s_.seen_[key] = {0, revision};
  for (const auto& [key, version] : versions_) {
    if (version) {
      s_.seen_[key] = {*version, revision};
    } else {
      s_.seen_.erase(key);
    }
  }
  for (auto& [id, keys] : claims_) {
    if (keys.empty()) {
      s_.claims_.erase(id);
    } else {
      s_.claims_[id] = std::move(keys);
    }
  }
  for (const auto& [pool, network] : networks_) s_.networks_[pool] = network;
}

namespace {

bool holds(const Compare& c, const std::optional<KeyValue>& now) {
  if (c.op == Compare::Op::kLess) return (now ? now->mod_revision : 0) < c.value;
  return c.target == Compare::Target::kCreateRevision
             ? !now.has_value()
             : now.has_value() && now->mod_revision == c.value;
}

// Gives the batch's events this writer's seqs after `last`, in order (Store::kSlotStride): two
// replicas committing at once then never take the same seq, and a batch is resent only when two
// share a slot.
void renumberAfter(std::vector<Write>& batch, std::uint64_t last, std::uint32_t slot) {
  for (Write& w : batch) {
    if (auto* e = std::get_if<ledger::AppendEvent>(&w))
      e->event.seq = last = ledger::nextForWriter(last, slot);
  }
}

}  // namespace

// Which compare failed, in the words of the record it guards.
Status EtcdStore::overtaken(const std::vector<Compare>& compares,
                            const std::vector<std::optional<KeyValue>>& current) const {
  for (std::size_t i = 0; i < compares.size() && i < current.size(); ++i) {
    const Compare& c = compares[i];
    const auto& now = current[i];
    if (holds(c, now)) continue;
    if (keys_.in(c.key, "ev/"))
      return Status::conflict(eventRecordName(trailingNumber(c.key)) + ": already exists");
    if (keys_.in(c.key, "ip/") || keys_.in(c.key, "mac/")) {
      std::string what = c.key.substr(c.key.find('/', keys_.prefix().size()) + 1);
      std::replace(what.begin(), what.end(), '\0', ' ');
      return Status::conflict(what + " is held by binding " + (now ? now->value : "?") +
                              " (written by another replica)");
    }
    return Status::conflict(describeKey(c.key) + ": changed by another writer since it was read");
  }
  return Status::conflict("another writer changed what this batch read");
}

std::string EtcdStore::describeKey(const std::string& key) const {
  if (key == keys_.leader()) return "leadership: another replica was elected";
  if (auto n = keys_.in(key, "netpools/")) {
    return "the pools of network \"" + std::string(*n) + "\" (another replica changed them)";
  }
  if (auto n = keys_.in(key, "pool/")) return poolRecordName(std::string(*n));
  if (auto n = keys_.in(key, "macpool/")) return macPoolRecordName(std::string(*n));
  if (keys_.in(key, "bind/")) return bindingRecordName(trailingNumber(key));
  if (auto n = keys_.in(key, "token/")) return tokenRecordName(std::string(*n));
  if (auto n = keys_.in(key, "doc/")) {
    std::size_t sep = n->find('\0');
    return documentRecordName(std::string(n->substr(0, sep)),
                              sep == std::string_view::npos ? "" : std::string(n->substr(sep + 1)));
  }
  return key;
}

Status EtcdStore::apply(const std::vector<Write>& batch) { return attempt(batch, nullptr); }

Status EtcdStore::attempt(const std::vector<Write>& batch, bool* only_seqs) {
  if (batch.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  TxnPlan plan(*this);
  for (const Write& w : batch) NL_RETURN_IF_ERROR(plan.add(w));
  const std::int64_t fence = fenceRevision();
  if (fence != 0)
    plan.compares.push_back({keys_.leader(), Compare::Target::kCreateRevision, fence});
  const std::string mark = std::to_string(++batches_);
  plan.ops.push_back({false, keys_.writer(writer_), mark});
  auto result = client_->txn(plan.compares, plan.ops);
  if (!result) return result.status();
  quorum_seen_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
  std::int64_t revision = result->revision;
  if (!result->succeeded) {
    if (auto landed = landedEarlier(mark)) {
      revision = *landed;
    } else {
      bool seqs = true;
      for (std::size_t i = 0; i < plan.compares.size() && i < result->current.size(); ++i) {
        const Compare& c = plan.compares[i];
        if (holds(c, result->current[i])) continue;
        if (c.key == keys_.leader()) stepDown();  // another replica leads now
        if (!keys_.in(c.key, "ev/")) seqs = false;
      }
      if (only_seqs != nullptr) *only_seqs = seqs;
      return overtaken(plan.compares, result->current);
    }
  }
  plan.rememberLocked(revision);
  for (const Write& w : batch) {
    if (const auto* e = std::get_if<ledger::AppendEvent>(&w)) {
      last_seq_ = std::max(last_seq_, e->event.seq);
      committed_revision_ = revision;  // history queries wait for the archive to hold it
    }
  }
  return Status::ok();
}

std::optional<std::int64_t> EtcdStore::landedEarlier(const std::string& mark) {
  auto now = client_->range(keys_.writer(writer_), "", 1);
  if (!now || now->kvs.empty() || now->kvs[0].value != mark) return std::nullopt;
  return now->kvs[0].mod_revision;
}

Status EtcdStore::commit(std::vector<Write>& batch) {
  // Known unreachable or without quorum: refuse at once rather than hold every writer for the
  // client's 5 s of retries (the campaign re-checks within a second).
  // (Not yet any quorum answer at all, just after start-up: let the write itself find out.)
  if (const std::int64_t seen = quorum_seen_.load(); seen != 0) {
    if (Status h = healthAsOf(seen); !h.isOk()) return h;
  }
  {
    std::lock_guard lock(mu_);  // seqs another replica already used (the feed told us): skip them
    renumberAfter(batch, last_seq_, slot_);
  }
  for (int attempt_no = 0;; ++attempt_no) {
    bool only_seqs = false;
    Status s = attempt(batch, &only_seqs);
    if (s.isOk() || !only_seqs || attempt_no == 8) return s;
    auto last = highest("ev/", 0);
    auto pruned = highest("hw/seq/", 0);
    if (!last.isOk() || !pruned.isOk()) return s;
    renumberAfter(batch, std::max(*last, *pruned), slot_);
  }
}

std::size_t EtcdStore::costOf(const Write& write) const {
  if (const auto* b = std::get_if<ledger::PutBinding>(&write)) {
    return 2 + 2 * (b->binding.addresses.size() + 1);  // record, claims taken and given up
  }
  if (const auto* d = std::get_if<ledger::DeleteBinding>(&write)) {
    std::lock_guard lock(mu_);
    auto held = claims_.find(d->id);
    return 2 + (held != claims_.end() ? held->second.size() : 0);
  }
  if (std::holds_alternative<ledger::PutPool>(write))
    return 2;  // the record and its network's guard
  return 1;
}

}  // namespace netledger::store::etcd
