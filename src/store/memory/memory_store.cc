#include "store/memory/memory_store.h"
#include "store/overloaded.h"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <variant>

#include "store/conflict.h"

namespace netledger::store {

using ledger::EventQuery;
using ledger::EventRecord;
using ledger::Write;

namespace {

using Overlay = std::optional<std::uint64_t>;  // a version written earlier in the batch, or gone

// The version a record has once the earlier writes of the batch are applied.
template <typename Key, typename Record>
std::optional<std::uint64_t> versionOf(const std::map<Key, Record>& stored,
                                       const std::map<Key, Overlay>& overlay, const Key& key) {
  if (auto it = overlay.find(key); it != overlay.end()) return it->second;
  if (auto it = stored.find(key); it != stored.end()) return it->second.version;
  return std::nullopt;
}

// A put holds when expected is 0 and the record is absent, or the versions are equal.
template <typename Key, typename Record, typename NameFn>
Status checkPut(const std::map<Key, Record>& stored, std::map<Key, Overlay>& overlay,
                const Key& key, std::uint64_t expected, std::uint64_t new_version, NameFn name) {
  auto found = versionOf(stored, overlay, key);
  bool holds = expected == 0 ? !found.has_value() : found == expected;
  if (!holds) return versionConflict(name(), expected, found);
  overlay[key] = new_version;
  return Status::ok();
}

// A delete holds only when the record exists with exactly the expected version.
template <typename Key, typename Record, typename NameFn>
Status checkDelete(const std::map<Key, Record>& stored, std::map<Key, Overlay>& overlay,
                   const Key& key, std::uint64_t expected, NameFn name) {
  auto found = versionOf(stored, overlay, key);
  if (found != expected) return versionConflict(name(), expected, found);
  overlay[key] = std::nullopt;
  return Status::ok();
}

// The filters of a query other than the key and the cursors.
bool matches(const EventQuery& q, const EventRecord& e) {
  if (q.op && e.op != *q.op) return false;
  if (q.actor && e.actor != *q.actor) return false;
  return e.time >= q.from && e.time <= q.to;
}

// Walks `seqs` (ascending) in the query's direction within its cursors, calling `visit` with
// each seq until it returns false.
template <typename SeqRange, typename Visit>
void walk(const SeqRange& seqs, const EventQuery& q, Visit visit) {
  if (q.before_seq != 0) {
    auto it = seqs.lower_bound(q.before_seq);
    while (it != seqs.begin()) {
      --it;
      std::uint64_t seq = *it;
      if (seq <= q.after_seq) return;
      if (!visit(seq)) return;
    }
    return;
  }
  for (auto it = seqs.upper_bound(q.after_seq); it != seqs.end(); ++it) {
    if (!visit(*it)) return;
  }
}

// A view of the keys of events_ as an ordered set of seqs, so walk() serves both cases.
struct EventSeqs {
  const std::map<std::uint64_t, EventRecord>& events;
  struct Iterator {
    std::map<std::uint64_t, EventRecord>::const_iterator it;
    std::uint64_t operator*() const { return it->first; }
    Iterator& operator++() {
      ++it;
      return *this;
    }
    Iterator& operator--() {
      --it;
      return *this;
    }
    bool operator==(const Iterator&) const = default;
  };
  Iterator begin() const { return {events.begin()}; }
  Iterator end() const { return {events.end()}; }
  Iterator lower_bound(std::uint64_t seq) const { return {events.lower_bound(seq)}; }
  Iterator upper_bound(std::uint64_t seq) const { return {events.upper_bound(seq)}; }
};

}  // namespace

struct MemoryStore::Validation {
  std::map<std::string, Overlay> pools, mac_pools, tokens, documents;
  std::map<std::uint64_t, Overlay> bindings;
  std::set<std::uint64_t> events;
};

Result<ledger::StoreState> MemoryStore::load() {
  std::lock_guard lock(mu_);
  ledger::StoreState state;
  for (const auto& [name, pool] : pools_) state.pools.push_back(pool);
  for (const auto& [name, pool] : mac_pools_) state.mac_pools.push_back(pool);
  state.bindings.reserve(bindings_.size());
  for (const auto& [id, binding] : bindings_) state.bindings.push_back(binding);
  for (const auto& [name, token] : tokens_) state.tokens.push_back(token);
  for (const auto& [key, entry] : quarantine_) state.quarantine.push_back(entry);
  for (const auto& [id, doc] : documents_) state.documents.push_back(doc);
  state.last_binding_id = last_binding_id_;
  state.last_event_seq = last_event_seq_;
  return state;
}

Status MemoryStore::apply(const std::vector<Write>& batch) {
  std::lock_guard lock(mu_);
  if (failing_applies_ > 0) {
    --failing_applies_;
    return Status::unavailable("memory store: injected failure (failNextApplies)");
  }
  // Validate the whole batch before touching anything: that is what makes it all-or-nothing
  // without an undo log.
  NL_RETURN_IF_ERROR(validate(batch));
  applyValidated(batch);
  return Status::ok();
}

Status MemoryStore::validate(const std::vector<Write>& batch) const {
  Validation v;
  for (const Write& write : batch) {
    Status s = std::visit(
        Overloaded{
            [&](const ledger::PutPool& w) {
              return checkPut(pools_, v.pools, w.pool.name, w.expected_version, w.pool.version,
                              [&] { return poolRecordName(w.pool.name); });
            },
            [&](const ledger::DeletePool& w) {
              return checkDelete(pools_, v.pools, w.name, w.expected_version,
                                 [&] { return poolRecordName(w.name); });
            },
            [&](const ledger::PutMacPool& w) {
              return checkPut(mac_pools_, v.mac_pools, w.pool.name, w.expected_version,
                              w.pool.version, [&] { return macPoolRecordName(w.pool.name); });
            },
            [&](const ledger::DeleteMacPool& w) {
              return checkDelete(mac_pools_, v.mac_pools, w.name, w.expected_version,
                                 [&] { return macPoolRecordName(w.name); });
            },
            [&](const ledger::PutBinding& w) {
              return checkPut(bindings_, v.bindings, w.binding.id, w.expected_version,
                              w.binding.version, [&] { return bindingRecordName(w.binding.id); });
            },
            [&](const ledger::DeleteBinding& w) {
              return checkDelete(bindings_, v.bindings, w.id, w.expected_version,
                                 [&] { return bindingRecordName(w.id); });
            },
            [&](const ledger::PutToken& w) {
              return checkPut(tokens_, v.tokens, w.token.name, w.expected_version, w.token.version,
                              [&] { return tokenRecordName(w.token.name); });
            },
            [&](const ledger::DeleteToken& w) {
              return checkDelete(tokens_, v.tokens, w.name, w.expected_version,
                                 [&] { return tokenRecordName(w.name); });
            },
            [&](const ledger::PutQuarantine&) { return Status::ok(); },
            [&](const ledger::DeleteQuarantine&) { return Status::ok(); },
            [&](const ledger::PutDocument& w) {
              const auto& d = w.document;
              return checkPut(documents_, v.documents, documentId(d.kind, d.key),
                              w.expected_version, d.version,
                              [&] { return documentRecordName(d.kind, d.key); });
            },
            [&](const ledger::DeleteDocument& w) {
              return checkDelete(documents_, v.documents, documentId(w.kind, w.key),
                                 w.expected_version,
                                 [&] { return documentRecordName(w.kind, w.key); });
            },
            [&](const ledger::AppendEvent& w) {
              std::uint64_t seq = w.event.seq;
              if (seq == 0) return Status::invalidArgument("event: seq must be set (> 0)");
              if (events_.count(seq) != 0 || !v.events.insert(seq).second) {
                return Status::conflict(eventRecordName(seq) + ": already exists");
              }
              return Status::ok();
            },
        },
        write);
    if (!s.isOk()) return s;
  }
  return Status::ok();
}

void MemoryStore::applyValidated(const std::vector<Write>& batch) {
  for (const Write& write : batch) {
    std::visit(
        Overloaded{
            [&](const ledger::PutPool& w) { pools_[w.pool.name] = w.pool; },
            [&](const ledger::DeletePool& w) { pools_.erase(w.name); },
            [&](const ledger::PutMacPool& w) { mac_pools_[w.pool.name] = w.pool; },
            [&](const ledger::DeleteMacPool& w) { mac_pools_.erase(w.name); },
            [&](const ledger::PutBinding& w) {
              bindings_[w.binding.id] = w.binding;
              last_binding_id_ = std::max(last_binding_id_, w.binding.id);
            },
            [&](const ledger::DeleteBinding& w) { bindings_.erase(w.id); },
            [&](const ledger::PutToken& w) { tokens_[w.token.name] = w.token; },
            [&](const ledger::DeleteToken& w) { tokens_.erase(w.name); },
            [&](const ledger::PutQuarantine& w) {
              quarantine_[{w.entry.kind, w.entry.pool, w.entry.key}] = w.entry;
            },
            [&](const ledger::DeleteQuarantine& w) {
              quarantine_.erase({w.kind, w.pool, w.key});
            },
            [&](const ledger::PutDocument& w) {
              documents_[documentId(w.document.kind, w.document.key)] = w.document;
            },
            [&](const ledger::DeleteDocument& w) { documents_.erase(documentId(w.kind, w.key)); },
            [&](const ledger::AppendEvent& w) { appendEvent(w.event); },
        },
        write);
  }
}

void MemoryStore::appendEvent(const EventRecord& event) {
  events_[event.seq] = event;
  for (const auto& key : event.keys) event_keys_[key].insert(event.seq);
  last_event_seq_ = std::max(last_event_seq_, event.seq);
}

Result<std::vector<EventRecord>> MemoryStore::queryEvents(const EventQuery& query) {
  std::lock_guard lock(mu_);
  std::vector<EventRecord> out;
  if (query.limit == 0) return out;
  auto visit = [&](std::uint64_t seq) {
    const EventRecord& e = events_.at(seq);
    if (matches(query, e)) out.push_back(e);
    return out.size() < query.limit;
  };
  if (query.key) {
    auto it = event_keys_.find(*query.key);
    if (it != event_keys_.end()) walk(it->second, query, visit);
  } else {
    walk(EventSeqs{events_}, query, visit);
  }
  return out;
}

Result<std::size_t> MemoryStore::pruneEvents(ledger::Millis before) {
  std::lock_guard lock(mu_);
  std::size_t pruned = 0;
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->second.time >= before) {
      ++it;
      continue;
    }
    for (const auto& key : it->second.keys) {
      auto k = event_keys_.find(key);
      if (k == event_keys_.end()) continue;
      k->second.erase(it->first);
      if (k->second.empty()) event_keys_.erase(k);
    }
    it = events_.erase(it);
    ++pruned;
  }
  return pruned;
}

Status MemoryStore::snapshotTo(const std::string& path) {
  return Status::invalidArgument("memory store: cannot snapshot to \"" + path +
                                 "\": nothing durable to copy (use a sqlite: store)");
}

void MemoryStore::failNextApplies(int n) {
  std::lock_guard lock(mu_);
  failing_applies_ = std::max(n, 0);
}

}  // namespace netledger::store
