// The engine's conflicts and policies as ledger documents: written back over the version last
// read (persistLocked), read at start-up, taken in as other replicas change them
// (documentsChanged, from the ledger's document listener), and all read again when a write was
// refused because the stored copy had moved on (resyncLocked).
#include <algorithm>

#include <boost/json.hpp>

#include "common/parse.h"
#include "engine/engine.h"

namespace netledger::engine {
namespace json = boost::json;
using ledger::Actor;
using ledger::DocumentRecord;

namespace {

constexpr const char* kConflictDoc = Engine::kConflictKind;
constexpr const char* kPolicyDoc = Engine::kPolicyKind;

Result<Conflict> storedConflict(const DocumentRecord& d) {
  json::error_code ec;
  auto v = json::parse(d.body, ec);
  if (ec) return Status::internal("conflict " + d.key + ": stored body is not JSON");
  auto c = conflictFromJson(v);
  if (!c) return c.status().withContext("conflict " + d.key);
  return c;
}

}  // namespace

Status Engine::open() {
  std::lock_guard lock(mu_);
  // A start-up refuses what it cannot read; the feed later skips it (adoptDocumentLocked).
  for (const auto& d : ledger_.documents(kConflictDoc)) NL_RETURN_IF_ERROR(adoptDocumentLocked(d));
  for (const auto& d : ledger_.documents(kPolicyDoc)) (void)adoptDocumentLocked(d);
  return Status::ok();
}

void Engine::documentsChanged(ledger::Ledger::DocumentChanges changes) {
  {
    std::lock_guard lock(changes_mu_);
    changes_.push_back(std::move(changes));
    changes_pending_ = true;
  }
  queue_cv_.notify_all();
}

void Engine::applyDocumentChanges() {
  // mu_ first: two threads taking changes in must apply them in the order they were queued.
  std::lock_guard lock(mu_);
  std::vector<ledger::Ledger::DocumentChanges> pending;
  {
    std::lock_guard changes_lock(changes_mu_);
    pending.swap(changes_);
    changes_pending_ = false;
  }
  for (auto& batch : pending) {
    if (batch.full) {  // the ledger reloaded: what it holds now is all there is
      forgetConflictsLocked();
      policies_ = options_.policies;
    }
    for (const auto& d : batch.put) (void)adoptDocumentLocked(d);
    for (const auto& [kind, key] : batch.deleted) forgetDocumentLocked(kind, key);
  }
  if (resync_needed_) resyncLocked();
}

Status Engine::adoptDocumentLocked(const DocumentRecord& d) {
  if (d.kind == kPolicyDoc) {
    auto kind = parseConflictKind(d.key);
    auto policy = parsePolicy(d.body);
    if (kind && policy) policies_[*kind] = *policy;
    return Status::ok();
  }
  if (d.kind != kConflictDoc) return Status::ok();
  auto c = storedConflict(d);
  if (!c) return c.status();  // left as it was
  forgetDocumentLocked(d.kind, d.key);
  last_id_ = std::max(last_id_, c->id);
  stored_version_[c->id] = d.version;
  if (c->status != ConflictStatus::kResolved) {
    // Two replicas that opened one at once both follow the older from now on.
    auto [at, added] = unresolved_.try_emplace({c->kind, c->network, c->subject}, c->id);
    if (!added) at->second = std::min(at->second, c->id);
  }
  conflicts_[c->id] = std::move(*c);
  return Status::ok();
}

void Engine::forgetDocumentLocked(const std::string& kind, const std::string& key) {
  if (kind == kPolicyDoc) {
    if (auto k = parseConflictKind(key)) policies_.erase(*k);
    return;
  }
  auto id = parseUnsigned("id", key);
  if (!id) return;
  auto it = conflicts_.find(*id);
  if (it == conflicts_.end()) return;
  unindexLocked(it->second);
  dirty_.erase(*id);  // the stored version wins over changes not yet written back
  stored_version_.erase(*id);
  conflicts_.erase(it);
}

Result<std::uint64_t> Engine::persistLocked(const Conflict& c, const std::string& op,
                                            const std::string& actor) {
  DocumentRecord d{kConflictDoc, std::to_string(c.id), json::serialize(toJson(c))};
  // Only over the version this engine last read or wrote: a change made elsewhere and not yet
  // taken in (another replica's resolution) must not be overwritten by this older copy.
  auto known = stored_version_.find(c.id);
  auto applied = ledger_.putDocument(Actor::system(actor), std::move(d), op,
                                     "conflict:" + std::to_string(c.id),
                                     known != stored_version_.end() ? known->second : 0);
  dirty_.erase(c.id);
  if (!applied) {
    // The stored version wins; it replaces this copy at the next resync (reading them all).
    if (applied.status().code() == StatusCode::kConflict) resync_needed_ = true;
    return applied.status();
  }
  stored_version_[c.id] = applied->value.version;
  return applied->ticket;
}

void Engine::unindexLocked(const Conflict& c) {
  auto indexed = unresolved_.find({c.kind, c.network, c.subject});
  if (indexed != unresolved_.end() && indexed->second == c.id) unresolved_.erase(indexed);
}

void Engine::resyncLocked() {
  resync_needed_ = false;
  {
    // Queued changes are older than what is read below: drop them, or they would roll it back.
    std::lock_guard changes_lock(changes_mu_);
    changes_.clear();
    changes_pending_ = false;
  }
  forgetConflictsLocked();
  for (const auto& d : ledger_.documents(kConflictDoc)) (void)adoptDocumentLocked(d);
}

void Engine::forgetConflictsLocked() {
  conflicts_.clear();
  unresolved_.clear();
  aliases_.clear();
  dirty_.clear();
  stored_version_.clear();
}

}  // namespace netledger::engine
