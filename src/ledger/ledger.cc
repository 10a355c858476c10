// The Ledger's facade: each command checks its input and the actor's role without the lock,
// then runs its component under the lock with a write set, which mutate() commits. The
// components (ledger_state.h) do the work; this file only routes.
#include "ledger/ledger.h"

#include "ledger/ledger_state.h"
#include "ledger/validation.h"

namespace netledger::ledger {

Ledger::Ledger(Store& store, Clock& clock, LedgerOptions options)
    : state_(std::make_unique<State>(store, clock, options)) {}

Ledger::~Ledger() { close(); }

std::uint64_t Ledger::State::commitLocked(WriteSet& ws) {
  if (ws.empty()) return pipeline.latestTicketLocked();
  for (Write& w : ws.writes()) {
    if (auto* e = std::get_if<AppendEvent>(&w)) e->event.seq = ++last_event_seq;
    if (auto* p = std::get_if<PutPool>(&w)) p->read_at = store.readPosition();
  }
  return pipeline.pushLocked(std::move(ws.writes()));
}

template <typename T, typename Command>
Result<Applied<T>> Ledger::mutate(const Actor& actor, Command&& command) {
  std::lock_guard lock(state_->mu);
  WriteSet ws(actor, state_->clock.now());
  Result<Applied<T>> applied = command(ws);
  if (!applied) return applied;
  applied->ticket = state_->commitLocked(ws);
  return applied;
}

// ---------------------------------------------------------------------------------------------
// Tokens

Result<std::optional<std::string>> Ledger::bootstrapAdminToken(
    const std::optional<std::string>& secret) {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->tokens.empty()) return std::optional<std::string>();
  }
  Actor system = Actor::system("bootstrap");
  auto created = createToken(system, "admin", Role::kAdmin, {});
  if (!created) return created.status();
  std::string result = created->value.second;
  if (secret) {
    // Replace the generated secret by the operator's: same record, the given secret's hash.
    auto replaced = mutate<TokenRecord>(system, [&](WriteSet& ws) -> Result<Applied<TokenRecord>> {
      auto t = state_->tokens.replaceSecret("admin", *secret, ws);
      if (!t) return t.status();
      return Applied<TokenRecord>{*t};
    });
    if (!replaced) return replaced.status();
    created->ticket = replaced->ticket;
    result = *secret;
  }
  NL_RETURN_IF_ERROR(waitDurable(created->ticket));
  return std::optional<std::string>(result);
}

Result<TokenRecord> Ledger::authenticate(const std::string& secret) const {
  std::lock_guard lock(state_->mu);
  return state_->tokens.authenticate(secret);
}

Result<Applied<std::pair<TokenRecord, std::string>>> Ledger::createToken(
    const Actor& actor, const std::string& name, Role role, std::vector<std::string> tenants) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create tokens"));
  NL_RETURN_IF_ERROR(validateName("name", name));
  for (const auto& t : tenants) NL_RETURN_IF_ERROR(validateName("tenants", t));
  const std::string secret = newTokenSecret();
  using Created = std::pair<TokenRecord, std::string>;
  return mutate<Created>(actor, [&](WriteSet& ws) -> Result<Applied<Created>> {
    auto t = state_->tokens.create(name, role, std::move(tenants), secret, ws);
    if (!t) return t.status();
    return Applied<Created>{{std::move(t).value(), secret}};
  });
}

Result<Applied<TokenRecord>> Ledger::deleteToken(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "revoke tokens"));
  return mutate<TokenRecord>(actor, [&](WriteSet& ws) -> Result<Applied<TokenRecord>> {
    auto t = state_->tokens.revoke(name, ws);
    if (!t) return t.status();
    return Applied<TokenRecord>{std::move(t).value()};
  });
}

std::vector<TokenRecord> Ledger::listTokens(const Actor& actor) const {
  if (!requireRole(actor, Role::kAdmin, "list tokens").isOk()) return {};
  std::lock_guard lock(state_->mu);
  return state_->tokens.list();
}

// ---------------------------------------------------------------------------------------------
// Pools and MAC pools

Result<Applied<PoolView>> Ledger::createPool(const Actor& actor, PoolCreate create) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create pools"));
  NL_RETURN_IF_ERROR(validatePool(create.record));
  NL_RETURN_IF_ERROR(
      requireTenant(actor, create.record.tenant, "create pools").withContext("tenant"));
  return mutate<PoolView>(actor, [&](WriteSet& ws) -> Result<Applied<PoolView>> {
    auto view = state_->pools.create(actor, std::move(create), ws);
    if (!view) return view.status();
    return Applied<PoolView>{std::move(view).value()};
  });
}

Result<Applied<PoolView>> Ledger::updatePool(const Actor& actor, const std::string& name,
                                             const PoolPatch& patch) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "change pools"));
  return mutate<PoolView>(actor, [&](WriteSet& ws) -> Result<Applied<PoolView>> {
    auto held = state_->bindings.heldIn(name);
    auto view = state_->pools.update(actor, name, patch, held, ws);
    if (!view) return view.status();
    return Applied<PoolView>{std::move(view).value()};
  });
}

Result<Applied<PoolRecord>> Ledger::deletePool(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "delete pools"));
  return mutate<PoolRecord>(actor, [&](WriteSet& ws) -> Result<Applied<PoolRecord>> {
    auto removed = state_->pools.remove(actor, name, ws);
    if (!removed) return removed.status();
    return Applied<PoolRecord>{std::move(removed).value()};
  });
}

Result<PoolView> Ledger::getPool(const Actor& actor, const std::string& name) const {
  std::lock_guard lock(state_->mu);
  auto pool = state_->pools.visible(actor, name);
  if (!pool) return pool.status();
  return (*pool)->view();
}

std::vector<PoolView> Ledger::listPools(const Actor& actor) const {
  std::lock_guard lock(state_->mu);
  return state_->pools.list(actor);
}

Result<std::pair<PoolView, PoolMap>> Ledger::poolMap(
    const Actor& actor, const std::string& name, std::size_t max_cells,
    const std::vector<addr::IpAddress>& conflicts) const {
  std::lock_guard lock(state_->mu);
  auto found = state_->pools.visible(actor, name);
  if (!found) return found.status();
  const PoolState& pool = **found;
  PoolMapBuilder builder(pool.record.cidrs, max_cells);
  // A parent's space is what its children (carved from it) hold: their bindings, quarantine
  // and reservations are painted on its map too.
  std::vector<const PoolState*> family{&pool};
  for (std::size_t i = 0; i < family.size(); ++i) {
    for (const auto& child : family[i]->children) {
      if (const PoolState* c = state_->pools.find(child)) family.push_back(c);
    }
  }
  for (const PoolState* p : family) {
    for (const auto& block : p->blocks) {
      for (const auto& r : block->allocatableRanges()) builder.addAllocatable(r);
      for (const auto& [ip, until] : block->quarantined()) builder.addQuarantined(ip);
    }
    for (const auto& r : p->record.reserved) builder.addReserved(r);
    if (p->record.gateway) builder.addReserved(addr::IpRange(*p->record.gateway));
    state_->bindings.paint(p->record.name, builder);
  }
  for (const auto& ip : conflicts) builder.addConflict(ip);
  return std::make_pair(pool.view(), builder.build());
}

Result<Applied<MacPoolRecord>> Ledger::createMacPool(const Actor& actor, MacPoolRecord record) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create MAC pools"));
  NL_RETURN_IF_ERROR(validateMacPool(record));
  return mutate<MacPoolRecord>(actor, [&](WriteSet& ws) -> Result<Applied<MacPoolRecord>> {
    auto created = state_->mac_pools.create(std::move(record), ws);
    if (!created) return created.status();
    return Applied<MacPoolRecord>{std::move(created).value()};
  });
}

Result<Applied<MacPoolRecord>> Ledger::deleteMacPool(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "delete MAC pools"));
  return mutate<MacPoolRecord>(actor, [&](WriteSet& ws) -> Result<Applied<MacPoolRecord>> {
    auto users = state_->bindings.macPoolUsers(name);
    auto removed = state_->mac_pools.remove(name, users, ws);
    if (!removed) return removed.status();
    return Applied<MacPoolRecord>{std::move(removed).value()};
  });
}

Result<MacPoolRecord> Ledger::getMacPool(const Actor&, const std::string& name) const {
  std::lock_guard lock(state_->mu);
  return state_->mac_pools.get(name);
}

std::vector<MacPoolRecord> Ledger::listMacPools(const Actor&) const {
  std::lock_guard lock(state_->mu);
  return state_->mac_pools.list();
}

// ---------------------------------------------------------------------------------------------
// Bindings

Result<Applied<BindingRecord>> Ledger::allocate(const Actor& actor, const AllocateRequest& req) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "allocate"));
  NL_RETURN_IF_ERROR(validateAllocateRequest(req));
  return mutate<BindingRecord>(actor, [&](WriteSet& ws) {
    auto b = state_->bindings.allocate(req, ws);
    if (b && b->created) ++state_->allocations;
    return b;
  });
}

Result<Applied<BindingRecord>> Ledger::renew(const Actor& actor, std::uint64_t id,
                                             std::optional<std::int64_t> ttl_s) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "renew"));
  NL_RETURN_IF_ERROR(validateTtl("ttl_s", ttl_s));
  return mutate<BindingRecord>(actor,
                               [&](WriteSet& ws) { return state_->bindings.renew(id, ttl_s, ws); });
}

Result<Applied<std::size_t>> Ledger::renewHost(const Actor& actor, const std::string& host) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "renew"));
  NL_RETURN_IF_ERROR(validatePrintable("host", host, 253, true));
  return mutate<std::size_t>(actor,
                             [&](WriteSet& ws) { return state_->bindings.renewHost(host, ws); });
}

Result<Applied<BindingRecord>> Ledger::activate(const Actor& actor, std::uint64_t id) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "activate bindings"));
  return mutate<BindingRecord>(actor,
                               [&](WriteSet& ws) { return state_->bindings.activate(id, ws); });
}

Result<Applied<BindingRecord>> Ledger::release(const Actor& actor, std::uint64_t id) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "release"));
  return mutate<BindingRecord>(actor, [&](WriteSet& ws) -> Result<Applied<BindingRecord>> {
    auto b = state_->bindings.end(id, false, ws);
    if (!b) return b.status();
    ++state_->releases;
    return Applied<BindingRecord>{std::move(b).value()};
  });
}

Result<Applied<std::size_t>> Ledger::sweep() {
  Actor sweeper = Actor::system("sweeper");
  return mutate<std::size_t>(sweeper, [&](WriteSet& ws) -> Result<Applied<std::size_t>> {
    auto due = state_->bindings.dueForExpiry(ws.nowMs());
    std::size_t expired = 0;
    for (auto id : due) expired += state_->bindings.end(id, true, ws).isOk();
    state_->expirations += expired;
    return Applied<std::size_t>{expired, expired > 0};
  });
}

Result<Applied<BindingRecord>> Ledger::migrate(const Actor& actor, std::uint64_t id,
                                               const std::string& host,
                                               std::optional<addr::Mac> host_mac) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "migrate"));
  NL_RETURN_IF_ERROR(validatePrintable("host", host, 253, true));
  return mutate<BindingRecord>(
      actor, [&](WriteSet& ws) { return state_->bindings.migrate(id, host, host_mac, ws); });
}

Result<Applied<BindingRecord>> Ledger::updateBinding(const Actor& actor, std::uint64_t id,
                                                     const BindingUpdate& update) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "update bindings"));
  NL_RETURN_IF_ERROR(validateBindingUpdate(update));
  return mutate<BindingRecord>(
      actor, [&](WriteSet& ws) { return state_->bindings.update(id, update, ws); });
}

Result<Applied<BindingRecord>> Ledger::moveAddress(const Actor& actor, const addr::IpAddress& ip,
                                                   std::uint64_t to) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "move addresses"));
  return mutate<BindingRecord>(
      actor, [&](WriteSet& ws) { return state_->bindings.moveAddress(ip, to, ws); });
}

Result<Applied<BindingRecord>> Ledger::reassignAddress(const Actor& actor, std::uint64_t id,
                                                       const addr::IpAddress& ip) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "reassign addresses"));
  return mutate<BindingRecord>(
      actor, [&](WriteSet& ws) { return state_->bindings.reassignAddress(id, ip, ws); });
}

Result<BindingRecord> Ledger::getBinding(const Actor& actor, std::uint64_t id) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.get(actor, id);
}

std::vector<AddressNetwork> Ledger::addressNetworks(const BindingRecord& binding) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.addressNetworks(binding);
}

Result<Page<BindingRecord>> Ledger::searchBindings(const Actor& actor, const BindingFilter& filter,
                                                   const std::string& cursor,
                                                   std::size_t limit) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.search(actor, filter, cursor, limit);
}

void Ledger::forEachBinding(const Actor& actor, const BindingFilter& filter,
                            const std::function<void(const BindingRecord&)>& visit) const {
  std::string cursor;
  do {
    auto page = searchBindings(actor, filter, cursor, 1000);
    if (!page) return;
    for (const auto& b : page->items) visit(b);
    cursor = page->next_cursor;
  } while (!cursor.empty());
}

Result<BindingRecord> Ledger::holderOfAddress(const Actor& actor, const addr::IpAddress& ip) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.holderOfAddress(actor, ip);
}

Result<BindingRecord> Ledger::holderOfMac(const Actor& actor, addr::Mac mac) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.holderOfMac(actor, mac);
}

std::vector<WireFacts> Ledger::lookupWire(std::span<const WireQuery> queries) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.lookupWire(queries);
}

std::pair<std::vector<std::uint64_t>, std::size_t> Ledger::bindingsUnchangedSince(
    Millis before, std::size_t cursor, std::size_t limit) const {
  std::lock_guard lock(state_->mu);
  return state_->bindings.unchangedSince(before, cursor, limit);
}

// ---------------------------------------------------------------------------------------------
// Documents

Result<Applied<DocumentRecord>> Ledger::putDocument(const Actor& actor, DocumentRecord document,
                                                    const std::string& op,
                                                    const std::string& subject,
                                                    std::vector<std::string> keys,
                                                    std::optional<std::string> audit_body,
                                                    std::optional<std::uint64_t> if_version) {
  return mutate<DocumentRecord>(actor, [&](WriteSet& ws) {
    return state_->documents.put(
        std::move(document), {op, subject, std::move(keys), std::move(audit_body)}, ws, if_version);
  });
}

Result<Applied<DocumentRecord>> Ledger::putDocumentChecked(const Actor& actor,
                                                           const std::string& kind,
                                                           const DocumentDrafter& draft) {
  return mutate<DocumentRecord>(actor, [&](WriteSet& ws) -> Result<Applied<DocumentRecord>> {
    auto d = draft(state_->documents.list(kind));
    if (!d) return d.status();
    if (d->document.kind != kind) return Status::internal("drafted a document of another kind");
    // The kind's guard document moves with every checked write: two replicas that drafted from
    // the same view cannot both commit (the store's version check on the guard refuses one,
    // whose request runs again on the state that includes the other's).
    auto guard = state_->documents.put({kind + ".guard", "claims", "{}", 0, 0}, {}, ws);
    if (!guard) return guard.status();
    return state_->documents.put(
        std::move(d->document),
        {std::move(d->op), std::move(d->subject), std::move(d->keys), std::nullopt}, ws);
  });
}

Result<Applied<DocumentRecord>> Ledger::deleteDocument(const Actor& actor, const std::string& kind,
                                                       const std::string& key,
                                                       const std::string& op,
                                                       const std::string& subject,
                                                       std::optional<std::string> audit_body) {
  return mutate<DocumentRecord>(actor, [&](WriteSet& ws) -> Result<Applied<DocumentRecord>> {
    auto old = state_->documents.remove(kind, key, {op, subject, {}, std::move(audit_body)}, ws);
    if (!old) return old.status();
    return Applied<DocumentRecord>{std::move(old).value()};
  });
}

std::vector<DocumentRecord> Ledger::documents(const std::string& kind) const {
  std::lock_guard lock(state_->mu);
  return state_->documents.list(kind);
}

std::optional<DocumentRecord> Ledger::document(const std::string& kind,
                                               const std::string& key) const {
  std::lock_guard lock(state_->mu);
  return state_->documents.get(kind, key);
}

// ---------------------------------------------------------------------------------------------
// Durability, statistics, history

void Ledger::whenDurable(std::uint64_t ticket, std::function<void(Status)> done) {
  state_->pipeline.whenDurable(ticket, std::move(done));
}

Status Ledger::waitDurable(std::uint64_t ticket) { return state_->pipeline.waitDurable(ticket); }

void Ledger::setCommitObserver(std::function<void(std::size_t, double, const Status&)> observer) {
  state_->pipeline.setCommitObserver(std::move(observer));
}

void Ledger::setEventListener(std::function<void(std::span<const EventRecord* const>)> listener) {
  state_->pipeline.setEventListener(std::move(listener));
}

void Ledger::setDocumentListener(std::set<std::string> kinds,
                                 std::function<void(DocumentChanges)> listener) {
  state_->listened_kinds = std::move(kinds);
  state_->document_listener = std::move(listener);
}

LedgerStats Ledger::stats() const {
  std::lock_guard lock(state_->mu);
  CommitStats c = state_->pipeline.statsLocked();
  LedgerStats s;
  s.allocations = state_->allocations;
  s.releases = state_->releases;
  s.expirations = state_->expirations;
  s.commits = c.commits;
  s.commit_failures = c.commit_failures;
  s.last_batch_size = c.last_batch_size;
  s.last_commit_seconds = c.last_commit_seconds;
  s.bindings = state_->bindings.size();
  return s;
}

std::uint64_t Ledger::lastEventSeq() const {
  std::lock_guard lock(state_->mu);
  return state_->last_event_seq;
}

std::uint64_t Ledger::lastEventPosition() const {
  std::lock_guard lock(state_->mu);
  return state_->last_event_position != 0 ? state_->last_event_position : state_->last_event_seq;
}

LoadStats Ledger::loadStats() const {
  std::lock_guard lock(state_->mu);
  return state_->load_stats;
}

Result<HistoryEntry> Ledger::holderAt(const std::string& key, Millis at) const {
  return state_->history.holderAt(key, at);
}

Result<std::vector<HistoryEntry>> Ledger::lineage(const std::string& key, Millis from, Millis to,
                                                  std::size_t limit) const {
  return state_->history.lineage(key, from, to, limit);
}

Result<std::vector<EventRecord>> Ledger::audit(const EventQuery& query) const {
  return state_->history.audit(query);
}

Result<std::vector<EventRecord>> Ledger::eventsAfter(std::uint64_t position,
                                                     std::size_t limit) const {
  return state_->history.eventsAfter(position, limit);
}

Store& Ledger::store() { return state_->store; }

}  // namespace netledger::ledger
