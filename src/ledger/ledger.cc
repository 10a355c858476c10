#include "ledger/ledger.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <boost/json.hpp>

#include "common/crypto.h"
#include "ledger/codec.h"

namespace netledger::ledger {

namespace json = boost::json;
using addr::IpAddress;
using addr::Mac;
using addr::Prefix;

namespace {

constexpr std::size_t kMaxNameLength = 63;

Status validateName(std::string_view field, const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return Status::invalidArgument(std::string(field) + ": must be 1 to 63 characters");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return Status::invalidArgument(std::string(field) + ": \"" + name +
                                     "\" may only contain letters, digits, '-', '_' and '.'");
    }
  }
  return Status::ok();
}

Status validatePrintable(std::string_view field, const std::string& value, std::size_t max,
                         bool required) {
  if (value.empty()) {
    return required ? Status::invalidArgument(std::string(field) + ": required") : Status::ok();
  }
  if (value.size() > max) {
    return Status::invalidArgument(std::string(field) + ": longer than " + std::to_string(max) +
                                   " characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Status::invalidArgument(std::string(field) + ": control characters are not allowed");
    }
  }
  return Status::ok();
}

std::string dump(const json::object& o) { return json::serialize(o); }

std::vector<std::string> bindingKeys(const BindingRecord& b, bool with_addresses) {
  // The binding itself is the event's subject; keys are what history is asked about.
  std::vector<std::string> keys = {"instance:" + b.instance};
  if (with_addresses) {
    for (const auto& a : b.addresses) keys.push_back("ip:" + a.ip.toString());
    if (b.mac) keys.push_back("mac:" + b.mac->toString());
  }
  return keys;
}

std::string hexOf(const Sha256Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

Ledger::Ledger(Store& store, Clock& clock, LedgerOptions options)
    : store_(store), clock_(clock), options_(options) {}

Ledger::~Ledger() { close(); }

Millis Ledger::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Loading

Status Ledger::open() {
  std::lock_guard lock(mu_);
  if (open_) return Status::ok();
  NL_RETURN_IF_ERROR(loadLocked());
#ifdef __GLIBC__
  // Loading builds every record once more than memory keeps; hand those pages back to the OS
  // instead of leaving them in malloc's free lists (they were ~100 bytes per binding).
  malloc_trim(0);
#endif
  open_ = true;
  committer_ = std::thread([this] { committerLoop(); });
  return Status::ok();
}

void Ledger::close() {
  {
    std::lock_guard lock(mu_);
    if (!open_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  std::lock_guard lock(mu_);
  open_ = false;
}

void Ledger::resetLocked() {
  pools_.clear();
  mac_pools_.clear();
  overlap_ = alloc::PoolOverlapIndex();
  macs_ = alloc::MacRegistry();
  table_.clear();
  tokens_.clear();
  token_by_hash_.clear();
  documents_.clear();
}

Result<std::unique_ptr<alloc::IpAllocator>> Ledger::makeBlock(const PoolRecord& r,
                                                              const Prefix& cidr) const {
  alloc::IpPoolLayout layout;
  layout.cidr = cidr;
  if (r.gateway && cidr.contains(*r.gateway)) layout.gateway = r.gateway;
  // A CIDR's allocation ranges are the pool's ranges inside it; none there means all of it
  // (so a prefix added by auto-expansion is usable whole).
  for (const auto& range : r.ranges) {
    if (cidr.contains(range.first())) layout.ranges.push_back(range);
  }
  for (const auto& range : r.reserved) {
    if (cidr.contains(range.first())) layout.reserved.push_back(range);
  }
  layout.quarantine = std::chrono::seconds(r.quarantine_s);
  return alloc::IpAllocator::create(std::move(layout));
}

Status Ledger::addPoolStateLocked(const PoolRecord& record) {
  PoolState state;
  state.record = record;
  for (const auto& cidr : record.cidrs) {
    auto block = makeBlock(record, cidr);
    if (!block) return block.status().withContext("pool " + record.name);
    state.blocks.push_back(std::move(block).value());
    state.carvers.push_back(std::make_unique<alloc::PrefixAllocator>(cidr));
  }
  if (!record.parent.empty()) {
    auto parent = pools_.find(record.parent);
    if (parent == pools_.end()) {
      return Status::notFound("parent: pool \"" + record.parent + "\" not found");
    }
    parent->second.children.push_back(record.name);
  } else if (!record.external) {
    for (const auto& cidr : record.cidrs) {
      NL_RETURN_IF_ERROR(overlap_.add(record.network, cidr, record.name));
    }
  }
  pools_.emplace(record.name, std::move(state));
  return Status::ok();
}

Status Ledger::loadLocked() {
  auto t0 = std::chrono::steady_clock::now();
  auto loaded = store_.load();
  if (!loaded) return loaded.status();
  auto t1 = std::chrono::steady_clock::now();
  load_stats_.bindings = loaded->bindings.size();
  load_stats_.store_seconds = std::chrono::duration<double>(t1 - t0).count();
  StoreState& s = *loaded;
  const TimePoint now = clock_.now();

  // Parents before children, whatever order the store returns.
  std::vector<PoolRecord> ordered = s.pools;
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return a.parent.empty() > b.parent.empty();
  });
  std::set<std::string> done;
  while (done.size() < ordered.size()) {
    std::size_t progress = done.size();
    for (const auto& p : ordered) {
      if (done.contains(p.name) || (!p.parent.empty() && !done.contains(p.parent))) continue;
      NL_RETURN_IF_ERROR(addPoolStateLocked(p));
      if (!p.parent.empty()) {
        auto& parent = pools_.at(p.parent);
        for (const auto& cidr : p.cidrs) {
          for (auto& carver : parent.carvers) {
            if (carver->parent().contains(cidr)) (void)carver->reserve(cidr);
          }
        }
      }
      done.insert(p.name);
    }
    if (done.size() == progress) return Status::internal("store: pool parents form a cycle");
  }
  for (const auto& m : s.mac_pools) {
    MacPoolState state{
        m, std::make_unique<alloc::MacAllocator>(
               alloc::MacPoolLayout{m.prefix, m.strategy, std::chrono::seconds(m.quarantine_s)},
               macs_)};
    mac_pools_.emplace(m.name, std::move(state));
  }
  table_.reserve(s.bindings.size());
  macs_.reserve(s.bindings.size());
  for (auto& b : s.bindings) {
    for (const auto& a : b.addresses) {
      auto pool = pools_.find(a.pool);
      if (pool == pools_.end()) continue;
      if (auto* block = blockFor(pool->second, a.ip)) {
        (void)block->allocateSpecific(a.ip, now, true);  // config may have changed: keep it
      }
      ++pool->second.bindings;
    }
    if (b.mac) (void)macs_.claim(*b.mac, now, true);
    table_.insert(b);
  }
#ifdef __GLIBC__
  // The store may decode records on helper threads. Freed here, their memory would sit in those
  // threads' malloc arenas as fast-bin chunks, later merged into the arena's top, which
  // malloc_trim never returns for a non-main arena (~40 bytes per binding). Without fast bins
  // each free coalesces at once and the arena trims its top as it shrinks.
  mallopt(M_MXFAST, 0);
#endif
  s.bindings.clear();
  s.bindings.shrink_to_fit();
#ifdef __GLIBC__
  mallopt(M_MXFAST, 64 * sizeof(std::size_t) / 4);  // glibc's default (DEFAULT_MXFAST)
#endif
  for (const auto& t : s.tokens) {
    token_by_hash_[t.sha256_hex] = t.name;
    tokens_.emplace(t.name, t);
  }
  for (const auto& q : s.quarantine) {
    TimePoint until{std::chrono::milliseconds(q.until)};
    if (until <= now) continue;
    if (q.kind == "ip") {
      auto pool = pools_.find(q.pool);
      auto ip = IpAddress::parse(q.key);
      if (pool == pools_.end() || !ip) continue;
      if (auto* block = blockFor(pool->second, *ip)) (void)block->restoreQuarantine(*ip, until);
    } else if (auto mac = Mac::parse(q.key); mac && macs_.claim(*mac, now).isOk()) {
      (void)macs_.release(*mac, now, until - now);
    }
  }
  for (auto& d : s.documents) {
    std::string kind = d.kind, key = d.key;
    documents_[kind].emplace(std::move(key), std::move(d));
  }
  last_event_seq_ = s.last_event_seq;
  last_binding_id_ = s.last_binding_id;
  stats_.bindings = table_.size();
  load_stats_.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Group commit

std::uint64_t Ledger::pushLocked(std::vector<Write> writes) {
  for (auto& w : writes) pending_writes_.push_back(std::move(w));
  std::uint64_t ticket = next_ticket_++;
  work_cv_.notify_one();
  return ticket;
}

void Ledger::whenDurable(std::uint64_t ticket, std::function<void(Status)> done) {
  Status result;
  {
    std::lock_guard lock(mu_);
    if (ticket > durable_ticket_ && ticket >= failed_below_) {
      waiting_.push_back({std::move(done), ticket});
      return;
    }
    if (ticket > durable_ticket_) result = last_failure_;
  }
  done(result);
}

Status Ledger::waitDurable(std::uint64_t ticket) {
  std::unique_lock lock(mu_);
  durable_cv_.wait(lock, [&] { return ticket <= durable_ticket_ || ticket < failed_below_; });
  return ticket <= durable_ticket_ ? Status::ok() : last_failure_;
}

void Ledger::failAllLocked(const Status& why, std::vector<Pending>& to_fail) {
  last_failure_ = Status::unavailable("the store did not commit the change: " + why.message());
  failed_below_ = next_ticket_;
  pending_writes_.clear();
  for (auto& p : waiting_) to_fail.push_back(std::move(p));
  waiting_.clear();
  // Memory may hold changes the store refused: rebuild from what is durable.
  resetLocked();
  Status reloaded = loadLocked();
  if (!reloaded.isOk()) last_failure_ = reloaded;
}

void Ledger::committerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !pending_writes_.empty(); });
    if (pending_writes_.empty()) break;  // stopping, nothing left
    std::vector<Write> batch;
    batch.swap(pending_writes_);
    const std::uint64_t top = next_ticket_ - 1;
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    Status s = store_.apply(batch);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Listeners hear of a batch before its writers are acknowledged: whoever got an answer can
    // rely on the event stream already having the event (and on a resume not repeating it).
    if (event_listener_ && s.isOk()) {
      std::vector<const EventRecord*> events;
      for (const Write& w : batch) {
        if (const auto* e = std::get_if<AppendEvent>(&w)) events.push_back(&e->event);
      }
      if (!events.empty()) event_listener_(events);
    }
    lock.lock();
    std::vector<Pending> ready;
    Status outcome = s;
    stats_.last_commit_seconds = seconds;
    stats_.last_batch_size = batch.size();
    if (s.isOk()) {
      ++stats_.commits;
      durable_ticket_ = top;
      auto keep = std::partition(waiting_.begin(), waiting_.end(),
                                 [&](const Pending& p) { return p.ticket > top; });
      std::move(keep, waiting_.end(), std::back_inserter(ready));
      waiting_.erase(keep, waiting_.end());
    } else {
      ++stats_.commit_failures;
      failAllLocked(s, ready);
      outcome = last_failure_;
    }
    durable_cv_.notify_all();
    lock.unlock();
    if (commit_observer_) commit_observer_(batch.size(), seconds, s.isOk());
    for (auto& p : ready) p.done(outcome);
    lock.lock();
  }
}

EventRecord Ledger::eventLocked(const Actor& actor, std::string op, std::string subject,
                                std::vector<std::string> keys, std::string before,
                                std::string after) {
  EventRecord e;
  e.seq = ++last_event_seq_;
  e.time = nowMs();
  e.actor = actor.name;
  e.op = std::move(op);
  e.subject = std::move(subject);
  e.keys = std::move(keys);
  e.before = std::move(before);
  e.after = std::move(after);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Access

Status Ledger::requireRole(const Actor& actor, Role role, std::string_view what) const {
  if (actor.role >= role) return Status::ok();
  return Status(StatusCode::kForbidden, "token \"" + actor.name + "\" (role " +
                                            std::string(roleName(actor.role)) + ") may not " +
                                            std::string(what) + ": needs role " +
                                            std::string(roleName(role)));
}

Status Ledger::checkPoolAccess(const Actor& actor, const PoolRecord& p) const {
  if (actor.mayAccessTenant(p.tenant)) return Status::ok();
  // Out of scope reads as absent: a scoped token must not learn other tenants' pool names.
  return Status::notFound("pool \"" + p.name + "\" not found");
}

Status Ledger::checkBindingAccess(const Actor& actor, const BindingRecord& b) const {
  if (actor.mayAccessTenant(b.tenant)) return Status::ok();
  return Status::notFound("binding " + std::to_string(b.id) + " not found");
}

// ---------------------------------------------------------------------------------------------
// Indexes and views

std::vector<std::uint64_t> Ledger::holdersOfIpLocked(const IpAddress& ip) const {
  std::set<std::string> networks = {"default"};
  for (const auto& [name, p] : pools_) networks.insert(p.record.network);
  std::vector<std::uint64_t> out;
  for (const auto& n : networks) {
    if (auto id = table_.idByIp(n, ip)) out.push_back(*id);
  }
  return out;
}

std::string Ledger::networkOfPool(const std::string& pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? std::string("default") : it->second.record.network;
}

alloc::IpAllocator* Ledger::blockFor(PoolState& pool, const IpAddress& ip) {
  for (auto& b : pool.blocks) {
    if (b->layout().cidr.contains(ip)) return b.get();
  }
  return nullptr;
}

PoolView Ledger::viewLocked(const PoolState& p) const {
  PoolView v;
  v.record = p.record;
  v.children = p.children;
  v.bindings = p.bindings;
  for (const auto& b : p.blocks) {
    auto c = b->counts();
    v.counts.size = addr::AddressCount(v.counts.size.saturated() + c.size.saturated());
    v.counts.allocatable += c.allocatable;
    v.counts.used += c.used;
    v.counts.quarantined += c.quarantined;
    v.counts.free += c.free;
    v.counts.reserved += c.reserved;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Tokens

Result<std::optional<std::string>> Ledger::bootstrapAdminToken(
    const std::optional<std::string>& secret) {
  {
    std::lock_guard lock(mu_);
    if (!tokens_.empty()) return std::optional<std::string>();
  }
  Actor system = Actor::system("bootstrap");
  auto created = createToken(system, "admin", Role::kAdmin, {});
  if (!created) return created.status();
  std::string result = created->value.second;
  if (secret) {
    // Replace the generated secret by the operator's: same record, the given secret's hash.
    std::lock_guard lock(mu_);
    auto& t = tokens_.at("admin");
    token_by_hash_.erase(t.sha256_hex);
    t.sha256_hex = hexOf(sha256(*secret));
    t.version += 1;
    token_by_hash_[t.sha256_hex] = t.name;
    created->ticket = pushLocked({PutToken{t, t.version - 1}});
    result = *secret;
  }
  NL_RETURN_IF_ERROR(waitDurable(created->ticket));
  return std::optional<std::string>(result);
}

Result<TokenRecord> Ledger::authenticate(const std::string& secret) const {
  auto hash = hexOf(sha256(secret));
  std::lock_guard lock(mu_);
  auto it = token_by_hash_.find(hash);
  if (it == token_by_hash_.end()) {
    return Status(StatusCode::kUnauthorized, "unknown or revoked token");
  }
  return tokens_.at(it->second);
}

Result<Applied<std::pair<TokenRecord, std::string>>> Ledger::createToken(
    const Actor& actor, const std::string& name, Role role, std::vector<std::string> tenants) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create tokens"));
  NL_RETURN_IF_ERROR(validateName("name", name));
  for (const auto& t : tenants) NL_RETURN_IF_ERROR(validateName("tenants", t));
  std::array<std::uint8_t, 24> raw{};
  secureRandomBytes(raw);
  std::string secret = "nlt_";
  static constexpr char kHex[] = "0123456789abcdef";
  for (auto b : raw) {
    secret += kHex[b >> 4];
    secret += kHex[b & 15];
  }
  std::lock_guard lock(mu_);
  if (tokens_.contains(name)) return Status::conflict("name: token \"" + name + "\" exists");
  TokenRecord t{name, hexOf(sha256(secret)), role, std::move(tenants), nowMs(), 1};
  tokens_.emplace(name, t);
  token_by_hash_[t.sha256_hex] = name;
  auto ticket = pushLocked(
      {PutToken{t, 0},
       AppendEvent{eventLocked(actor, "token.create", "token:" + name, {}, "", dump(toJson(t)))}});
  return Applied<std::pair<TokenRecord, std::string>>{{t, secret}, true, ticket};
}

Result<Applied<TokenRecord>> Ledger::deleteToken(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "revoke tokens"));
  std::lock_guard lock(mu_);
  auto it = tokens_.find(name);
  if (it == tokens_.end()) return Status::notFound("token \"" + name + "\" not found");
  if (it->second.role == Role::kAdmin) {
    auto admins = std::count_if(tokens_.begin(), tokens_.end(),
                                [](const auto& kv) { return kv.second.role == Role::kAdmin; });
    if (admins == 1) {
      return Status::conflict("token \"" + name +
                              "\" is the last admin token; create another "
                              "admin token before revoking it");
    }
  }
  TokenRecord t = it->second;
  token_by_hash_.erase(t.sha256_hex);
  tokens_.erase(it);
  auto ticket = pushLocked(
      {DeleteToken{name, t.version},
       AppendEvent{eventLocked(actor, "token.revoke", "token:" + name, {}, dump(toJson(t)), "")}});
  return Applied<TokenRecord>{t, true, ticket};
}

std::vector<TokenRecord> Ledger::listTokens(const Actor& actor) const {
  std::vector<TokenRecord> out;
  if (!requireRole(actor, Role::kAdmin, "list tokens").isOk()) return out;
  std::lock_guard lock(mu_);
  for (const auto& [name, t] : tokens_) out.push_back(t);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pools

Result<Applied<PoolView>> Ledger::createPool(const Actor& actor, PoolCreate create) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create pools"));
  PoolRecord r = std::move(create.record);
  NL_RETURN_IF_ERROR(validateName("name", r.name));
  NL_RETURN_IF_ERROR(validateName("network", r.network));
  if (!r.tenant.empty()) NL_RETURN_IF_ERROR(validateName("tenant", r.tenant));
  if (!actor.mayAccessTenant(r.tenant)) {
    return Status(StatusCode::kForbidden, "tenant: token \"" + actor.name +
                                              "\" may not create pools for tenant \"" + r.tenant +
                                              "\"");
  }
  NL_RETURN_IF_ERROR(validatePrintable("cluster", r.cluster, 253, false));
  if (r.threshold <= 0 || r.threshold > 1) {
    return Status::invalidArgument("threshold: must be in (0, 1], e.g. 0.85");
  }
  if (r.quarantine_s < 0 || r.quarantine_s > 365LL * 86400) {
    return Status::invalidArgument("quarantine_s: must be 0 to 31536000");
  }
  if (r.default_ttl_s < 0 || r.default_ttl_s > 3650LL * 86400) {
    return Status::invalidArgument("default_ttl_s: must be 0 to 315360000");
  }
  if (r.vlan && (*r.vlan < 0 || *r.vlan > 4094)) {
    return Status::invalidArgument("vlan: " + std::to_string(*r.vlan) + " is outside 0..4094");
  }
  if (r.vni && *r.vni >= (1u << 24)) {
    return Status::invalidArgument("vni: " + std::to_string(*r.vni) + " is outside 0..16777215");
  }
  if (r.external && (!r.parent.empty() || r.auto_expand)) {
    return Status::invalidArgument("external: an external pool has no parent and does not expand");
  }
  if (r.auto_expand && r.parent.empty()) {
    return Status::invalidArgument("auto_expand: needs a parent pool to take prefixes from");
  }

  std::lock_guard lock(mu_);
  if (pools_.contains(r.name)) return Status::conflict("name: pool \"" + r.name + "\" exists");
  if (!r.parent.empty()) {
    auto parent_it = pools_.find(r.parent);
    if (parent_it == pools_.end() || !actor.mayAccessTenant(parent_it->second.record.tenant)) {
      return Status::notFound("parent: pool \"" + r.parent + "\" not found");
    }
    PoolState& parent = parent_it->second;
    if (parent.bindings > 0) {
      return Status::conflict("parent: pool \"" + r.parent + "\" has " +
                              std::to_string(parent.bindings) +
                              " bindings; only a pool with none can be divided into children");
    }
    if (r.network != "default" && r.network != parent.record.network) {
      return Status::invalidArgument("network: a child pool is in its parent's network \"" +
                                     parent.record.network + "\"");
    }
    r.network = parent.record.network;
    if (r.tenant.empty()) r.tenant = parent.record.tenant;
    if (create.prefix_length) {
      if (!r.cidrs.empty()) {
        return Status::invalidArgument("cidr: give either cidr or prefix_length, not both");
      }
      Status last = Status::poolExhausted("parent: pool \"" + r.parent + "\" has no free /" +
                                          std::to_string(*create.prefix_length));
      for (auto& carver : parent.carvers) {
        int width = carver->parent().network().width();
        if (*create.prefix_length < carver->parent().length() || *create.prefix_length > width) {
          continue;
        }
        auto carved = carver->allocate(*create.prefix_length);
        if (carved) {
          r.cidrs.push_back(*carved);
          break;
        }
        if (carved.status().code() != StatusCode::kPoolExhausted) last = carved.status();
      }
      if (r.cidrs.empty()) {
        if (last.code() == StatusCode::kPoolExhausted) return last;
        return Status::invalidArgument("prefix_length: /" + std::to_string(*create.prefix_length) +
                                       " does not fit in pool \"" + r.parent + "\"");
      }
    } else {
      if (r.cidrs.empty()) return Status::invalidArgument("cidr: required (or prefix_length)");
      for (const auto& cidr : r.cidrs) {
        Status reserved = Status::invalidArgument(
            "cidr: " + cidr.toString() + " is not inside parent pool \"" + r.parent + "\"");
        for (auto& carver : parent.carvers) {
          if (carver->parent().contains(cidr)) reserved = carver->reserve(cidr);
        }
        NL_RETURN_IF_ERROR(reserved);
      }
    }
  } else {
    if (create.prefix_length) {
      return Status::invalidArgument("prefix_length: only with a parent pool");
    }
    if (r.cidrs.empty()) return Status::invalidArgument("cidr: required");
    for (std::size_t i = 0; i < r.cidrs.size(); ++i) {
      if (!r.external) NL_RETURN_IF_ERROR(overlap_.check(r.network, r.cidrs[i]));
      for (std::size_t j = 0; j < i; ++j) {
        if (r.cidrs[i].overlaps(r.cidrs[j])) {
          return Status::invalidArgument("cidrs: " + r.cidrs[i].toString() + " overlaps " +
                                         r.cidrs[j].toString());
        }
      }
    }
  }
  // The carve above must be undone if anything below refuses the pool.
  auto undoCarve = [&] {
    if (r.parent.empty()) return;
    for (auto& carver : pools_.at(r.parent).carvers) {
      for (const auto& cidr : r.cidrs) {
        if (carver->parent().contains(cidr)) (void)carver->release(cidr);
      }
    }
  };
  if (r.gateway && std::none_of(r.cidrs.begin(), r.cidrs.end(),
                                [&](const Prefix& c) { return c.contains(*r.gateway); })) {
    undoCarve();
    return Status::invalidArgument("gateway: " + r.gateway->toString() +
                                   " is not inside the pool's CIDR");
  }
  for (const auto* list : {&r.ranges, &r.reserved}) {
    for (const auto& range : *list) {
      bool inside = std::any_of(r.cidrs.begin(), r.cidrs.end(), [&](const Prefix& c) {
        return c.contains(range.first()) && c.contains(range.last());
      });
      if (!inside) {
        undoCarve();
        return Status::invalidArgument(std::string(list == &r.ranges ? "ranges" : "reserved") +
                                       ": " + range.toString() + " is not inside the pool's CIDR");
      }
    }
  }
  r.version = 1;
  r.created_at = r.updated_at = nowMs();
  if (Status s = addPoolStateLocked(r); !s.isOk()) {
    undoCarve();
    return s;
  }
  PoolView view = viewLocked(pools_.at(r.name));
  auto ticket = pushLocked(
      {PutPool{r, 0},
       AppendEvent{eventLocked(actor, "pool.create", "pool:" + r.name, {}, "", dump(toJson(r)))}});
  return Applied<PoolView>{std::move(view), true, ticket};
}

Result<Applied<PoolView>> Ledger::updatePool(const Actor& actor, const std::string& name,
                                             const PoolPatch& patch) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "change pools"));
  std::lock_guard lock(mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("pool \"" + name + "\" not found");
  PoolState& pool = it->second;
  NL_RETURN_IF_ERROR(checkPoolAccess(actor, pool.record));
  PoolRecord r = pool.record;
  if (patch.gateway) r.gateway = *patch.gateway;
  if (patch.ranges) r.ranges = *patch.ranges;
  if (patch.reserved) r.reserved = *patch.reserved;
  if (patch.tenant) r.tenant = *patch.tenant;
  if (patch.cluster) r.cluster = *patch.cluster;
  if (patch.vlan) r.vlan = *patch.vlan;
  if (patch.vni) r.vni = *patch.vni;
  if (patch.default_ttl_s) r.default_ttl_s = *patch.default_ttl_s;
  if (patch.quarantine_s) r.quarantine_s = *patch.quarantine_s;
  if (patch.threshold) r.threshold = *patch.threshold;
  if (patch.auto_expand) r.auto_expand = *patch.auto_expand;
  if (patch.expand_prefix_length) r.expand_prefix_length = *patch.expand_prefix_length;
  if (r.threshold <= 0 || r.threshold > 1) {
    return Status::invalidArgument("threshold: must be in (0, 1]");
  }
  if (r.quarantine_s < 0 || r.default_ttl_s < 0) {
    return Status::invalidArgument("quarantine_s/default_ttl_s: must not be negative");
  }
  if (r.vlan && (*r.vlan < 0 || *r.vlan > 4094)) {
    return Status::invalidArgument("vlan: outside 0..4094");
  }
  if (r.auto_expand && r.parent.empty()) {
    return Status::invalidArgument("auto_expand: needs a parent pool");
  }
  if (patch.tenant && !r.tenant.empty()) NL_RETURN_IF_ERROR(validateName("tenant", r.tenant));
  if (!actor.mayAccessTenant(r.tenant)) {
    return Status(StatusCode::kForbidden, "tenant: outside this token's tenants");
  }
  if (patch.tenant && pool.bindings > 0 && r.tenant != pool.record.tenant) {
    return Status::conflict("tenant: pool \"" + name + "\" has bindings; empty it first");
  }
  // Rebuild the blocks with the new layout, replaying every held and quarantined address; an
  // address that would become unallocatable refuses the change.
  const TimePoint now = clock_.now();
  std::vector<std::unique_ptr<alloc::IpAllocator>> blocks;
  for (std::size_t i = 0; i < r.cidrs.size(); ++i) {
    auto block = makeBlock(r, r.cidrs[i]);
    if (!block) return block.status();
    (*block)->setCursor(pool.blocks[i]->cursor());
    for (const auto& [ip, until] : pool.blocks[i]->quarantined()) {
      (void)(*block)->restoreQuarantine(ip, until);
    }
    blocks.push_back(std::move(block).value());
  }
  std::vector<std::uint64_t> holders;
  table_.scan(0, [&](std::size_t slot, const BindingTable::View& v) {
    if (table_.hasAddressInPool(slot, name)) holders.push_back(v.id);
    return true;
  });
  for (auto id : holders) {
    const BindingRecord b = *table_.get(id);
    for (const auto& a : b.addresses) {
      if (a.pool != name) continue;
      for (auto& block : blocks) {
        if (!block->layout().cidr.contains(a.ip)) continue;
        Status s = block->allocateSpecific(a.ip, now, true);
        if (!s.isOk()) {
          return Status::conflict("address " + a.ip.toString() + " is held by binding " +
                                  std::to_string(id) + " (" + b.instance +
                                  ") and would become unallocatable: " + s.message());
        }
      }
    }
  }
  std::string before = dump(toJson(pool.record));
  r.version = pool.record.version + 1;
  r.updated_at = nowMs();
  std::uint64_t expected = pool.record.version;
  pool.record = r;
  pool.blocks = std::move(blocks);
  PoolView view = viewLocked(pool);
  auto ticket = pushLocked(
      {PutPool{r, expected}, AppendEvent{eventLocked(actor, "pool.update", "pool:" + name, {},
                                                     std::move(before), dump(toJson(r)))}});
  return Applied<PoolView>{std::move(view), true, ticket};
}

Result<Applied<PoolRecord>> Ledger::deletePool(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "delete pools"));
  std::lock_guard lock(mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("pool \"" + name + "\" not found");
  NL_RETURN_IF_ERROR(checkPoolAccess(actor, it->second.record));
  if (it->second.bindings > 0) {
    return Status::conflict("pool \"" + name + "\" has " + std::to_string(it->second.bindings) +
                            " bindings; release them first");
  }
  if (!it->second.children.empty()) {
    return Status::conflict("pool \"" + name + "\" has child pools (" +
                            it->second.children.front() + ", ...); delete them first");
  }
  PoolRecord r = it->second.record;
  std::vector<Write> writes;
  for (const auto& block : it->second.blocks) {
    for (const auto& [ip, until] : block->quarantined()) {
      writes.push_back(DeleteQuarantine{"ip", ip.toString(), name});
    }
  }
  if (r.parent.empty()) {
    if (!r.external) {
      for (const auto& cidr : r.cidrs) overlap_.remove(r.network, cidr);
    }
  } else if (auto parent = pools_.find(r.parent); parent != pools_.end()) {
    auto& kids = parent->second.children;
    kids.erase(std::remove(kids.begin(), kids.end(), name), kids.end());
    for (auto& carver : parent->second.carvers) {
      for (const auto& cidr : r.cidrs) {
        if (carver->parent().contains(cidr)) (void)carver->release(cidr);
      }
    }
  }
  pools_.erase(it);
  writes.push_back(DeletePool{name, r.version});
  writes.push_back(
      AppendEvent{eventLocked(actor, "pool.delete", "pool:" + name, {}, dump(toJson(r)), "")});
  auto ticket = pushLocked(std::move(writes));
  return Applied<PoolRecord>{r, true, ticket};
}

void Ledger::maybeExpandLocked(PoolState& pool, std::vector<Write>& writes, const Actor& actor) {
  if (!pool.record.auto_expand || pool.record.parent.empty()) return;
  PoolView v = viewLocked(pool);
  if (v.counts.utilization() < pool.record.threshold) return;
  auto parent = pools_.find(pool.record.parent);
  if (parent == pools_.end()) return;
  int length = pool.record.expand_prefix_length > 0 ? pool.record.expand_prefix_length
                                                    : pool.record.cidrs.front().length();
  for (auto& carver : parent->second.carvers) {
    if (carver->parent().family() != pool.record.cidrs.front().family()) continue;
    auto carved = carver->allocate(length);
    if (!carved) continue;
    auto block = makeBlock(pool.record, *carved);
    if (!block) {
      (void)carver->release(*carved);
      continue;
    }
    std::string before = dump(toJson(pool.record));
    std::uint64_t expected = pool.record.version;
    pool.record.cidrs.push_back(*carved);
    pool.record.version += 1;
    pool.record.updated_at = nowMs();
    pool.blocks.push_back(std::move(block).value());
    pool.carvers.push_back(std::make_unique<alloc::PrefixAllocator>(*carved));
    writes.push_back(PutPool{pool.record, expected});
    writes.push_back(AppendEvent{eventLocked(actor, "pool.expand", "pool:" + pool.record.name, {},
                                             std::move(before), dump(toJson(pool.record)))});
    return;
  }
}

Result<PoolView> Ledger::getPool(const Actor& actor, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("pool \"" + name + "\" not found");
  NL_RETURN_IF_ERROR(checkPoolAccess(actor, it->second.record));
  return viewLocked(it->second);
}

Result<std::pair<PoolView, PoolMap>> Ledger::poolMap(
    const Actor& actor, const std::string& name, std::size_t max_cells,
    const std::vector<IpAddress>& conflicts) const {
  std::lock_guard lock(mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("pool \"" + name + "\" not found");
  const PoolState& pool = it->second;
  NL_RETURN_IF_ERROR(checkPoolAccess(actor, pool.record));
  PoolMapBuilder builder(pool.record.cidrs, max_cells);
  for (const auto& block : pool.blocks) {
    for (const auto& r : block->allocatableRanges()) builder.addAllocatable(r);
    for (const auto& [ip, until] : block->quarantined()) builder.addQuarantined(ip);
  }
  for (const auto& r : pool.record.reserved) builder.addReserved(r);
  if (pool.record.gateway) builder.addReserved(addr::IpRange(*pool.record.gateway));
  table_.forEachAddressInPool(name, [&](const IpAddress& ip, BindingState state) {
    builder.addBound(ip, state == BindingState::kReserved);
  });
  for (const auto& ip : conflicts) builder.addConflict(ip);
  return std::make_pair(viewLocked(pool), builder.build());
}

std::vector<PoolView> Ledger::listPools(const Actor& actor) const {
  std::lock_guard lock(mu_);
  std::vector<PoolView> out;
  for (const auto& [name, p] : pools_) {
    if (actor.mayAccessTenant(p.record.tenant)) out.push_back(viewLocked(p));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MAC pools

Result<Applied<MacPoolRecord>> Ledger::createMacPool(const Actor& actor, MacPoolRecord r) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "create MAC pools"));
  NL_RETURN_IF_ERROR(validateName("name", r.name));
  if (r.quarantine_s < 0) return Status::invalidArgument("quarantine_s: must not be negative");
  std::lock_guard lock(mu_);
  if (mac_pools_.contains(r.name)) {
    return Status::conflict("name: MAC pool \"" + r.name + "\" exists");
  }
  r.version = 1;
  r.created_at = r.updated_at = nowMs();
  mac_pools_.emplace(r.name,
                     MacPoolState{r, std::make_unique<alloc::MacAllocator>(
                                         alloc::MacPoolLayout{r.prefix, r.strategy,
                                                              std::chrono::seconds(r.quarantine_s)},
                                         macs_)});
  auto ticket = pushLocked(
      {PutMacPool{r, 0}, AppendEvent{eventLocked(actor, "macpool.create", "macpool:" + r.name, {},
                                                 "", dump(toJson(r)))}});
  return Applied<MacPoolRecord>{r, true, ticket};
}

Result<Applied<MacPoolRecord>> Ledger::deleteMacPool(const Actor& actor, const std::string& name) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kAdmin, "delete MAC pools"));
  std::lock_guard lock(mu_);
  auto it = mac_pools_.find(name);
  if (it == mac_pools_.end()) return Status::notFound("MAC pool \"" + name + "\" not found");
  std::size_t users = 0;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    users += v.mac_pool == name;
    return true;
  });
  if (users > 0) {
    return Status::conflict("MAC pool \"" + name + "\" has " + std::to_string(users) +
                            " bindings; release them first");
  }
  MacPoolRecord r = it->second.record;
  mac_pools_.erase(it);
  auto ticket = pushLocked({DeleteMacPool{name, r.version},
                            AppendEvent{eventLocked(actor, "macpool.delete", "macpool:" + name, {},
                                                    dump(toJson(r)), "")}});
  return Applied<MacPoolRecord>{r, true, ticket};
}

Result<MacPoolRecord> Ledger::getMacPool(const Actor&, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = mac_pools_.find(name);
  if (it == mac_pools_.end()) return Status::notFound("MAC pool \"" + name + "\" not found");
  return it->second.record;
}

std::vector<MacPoolRecord> Ledger::listMacPools(const Actor&) const {
  std::lock_guard lock(mu_);
  std::vector<MacPoolRecord> out;
  for (const auto& [name, p] : mac_pools_) out.push_back(p.record);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bindings

Result<Applied<BindingRecord>> Ledger::allocate(const Actor& actor, const AllocateRequest& req) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "allocate"));
  NL_RETURN_IF_ERROR(validatePrintable("instance", req.instance, 253, true));
  NL_RETURN_IF_ERROR(validatePrintable("interface", req.interface, 64, true));
  NL_RETURN_IF_ERROR(validatePrintable("host", req.host, 253, false));
  NL_RETURN_IF_ERROR(validatePrintable("service", req.service, 253, false));
  if (req.labels.size() > 64) return Status::invalidArgument("labels: more than 64 entries");
  for (const auto& [k, v] : req.labels) {
    NL_RETURN_IF_ERROR(validatePrintable("labels", k, 63, true));
    NL_RETURN_IF_ERROR(validatePrintable("labels." + k, v, 253, false));
  }
  if (req.ttl_s && (*req.ttl_s < 0 || *req.ttl_s > 3650LL * 86400)) {
    return Status::invalidArgument("ttl_s: must be 0 to 315360000");
  }
  if (req.pools.empty() && !req.address && !req.mac && req.mac_pool.empty()) {
    return Status::invalidArgument(
        "pools: give at least one pool, an address, a mac or a "
        "mac_pool");
  }
  if (req.probe && req.host.empty()) {
    return Status::invalidArgument("host: required with probe (the host's agent does the probe)");
  }
  if (req.probe && req.pools.empty() && !req.address) {
    return Status::invalidArgument("probe: there is no address to probe (give pools or address)");
  }
  if (req.mac && !req.mac_pool.empty()) {
    return Status::invalidArgument("mac: give either mac or mac_pool, not both");
  }
  if (req.mac && (req.mac->isMulticast() || req.mac->isZero())) {
    return Status::invalidArgument("mac: " + req.mac->toString() +
                                   " is not a unicast station address");
  }

  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  if (auto existing = table_.idByKey(req.instance, req.interface)) {
    BindingRecord b = *table_.get(*existing);
    NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
    return Applied<BindingRecord>{std::move(b), false, latestTicketLocked()};
  }

  // Resolve the pools.
  std::vector<PoolState*> pools;
  for (const auto& name : req.pools) {
    auto it = pools_.find(name);
    if (it == pools_.end() || !actor.mayAccessTenant(it->second.record.tenant)) {
      return Status::notFound("pools: pool \"" + name + "\" not found");
    }
    if (std::find(pools.begin(), pools.end(), &it->second) != pools.end()) {
      return Status::invalidArgument("pools: \"" + name + "\" is listed twice");
    }
    if (it->second.record.external) {
      return Status::conflict("pools: \"" + name +
                              "\" is external (another control plane's range); netledger "
                              "records it but does not allocate from it");
    }
    if (!it->second.children.empty()) {
      return Status::conflict("pools: \"" + name +
                              "\" is a parent pool; allocate from one of "
                              "its children (" +
                              it->second.children.front() + ", ...)");
    }
    pools.push_back(&it->second);
  }
  std::string tenant = pools.empty() ? std::string() : pools.front()->record.tenant;
  for (const auto* p : pools) {
    if (p->record.tenant != tenant) {
      return Status::invalidArgument("pools: \"" + p->record.name + "\" belongs to tenant \"" +
                                     p->record.tenant + "\", not \"" + tenant + "\"");
    }
  }
  if (tenant.empty() && actor.tenants.size() == 1) tenant = actor.tenants.front();
  if (!actor.mayAccessTenant(tenant)) {
    return Status(StatusCode::kForbidden,
                  "token \"" + actor.name + "\" may not create bindings outside its tenants");
  }
  // A specific address goes to the listed pool that contains it; with no pools, to the managed
  // pool that contains it, else it is recorded as unpooled.
  PoolState* specific_pool = nullptr;
  if (req.address) {
    for (auto* p : pools) {
      if (blockFor(*p, *req.address)) specific_pool = p;
    }
    if (!specific_pool && !pools.empty()) {
      return Status::invalidArgument("address: " + req.address->toString() +
                                     " is not in the requested pools");
    }
    if (pools.empty()) {
      for (auto& [name, p] : pools_) {
        if (p.children.empty() && blockFor(p, *req.address) &&
            actor.mayAccessTenant(p.record.tenant)) {
          specific_pool = &p;
        }
      }
      if (specific_pool) pools.push_back(specific_pool);
    }
  }

  BindingRecord b;
  std::vector<std::pair<alloc::IpAllocator*, IpAddress>> taken;
  auto undo = [&] {
    for (auto& [block, ip] : taken) (void)block->releaseImmediately(ip);
  };
  for (auto* p : pools) {
    if (p == specific_pool) {
      auto* block = blockFor(*p, *req.address);
      Status s = block->allocateSpecific(*req.address, now);
      if (!s.isOk()) {
        undo();
        if (s.code() == StatusCode::kConflict) {
          if (auto holder = table_.idByIp(p->record.network, *req.address)) {
            return Status::conflict("address: " + req.address->toString() + " is held by binding " +
                                    std::to_string(*holder) + " (" + table_.get(*holder)->instance +
                                    ")");
          }
        }
        return s.withContext("address");
      }
      taken.emplace_back(block, *req.address);
      b.addresses.push_back({*req.address, p->record.name});
      continue;
    }
    Status last = Status::poolExhausted("pool \"" + p->record.name + "\" is exhausted");
    bool got = false;
    for (auto& block : p->blocks) {
      auto ip = block->allocateNext(now);
      if (ip) {
        taken.emplace_back(block.get(), *ip);
        b.addresses.push_back({*ip, p->record.name});
        got = true;
        break;
      }
    }
    if (!got) {
      undo();
      PoolView v = viewLocked(*p);
      return Status::poolExhausted("pool \"" + p->record.name + "\" is exhausted (" +
                                   addr::toDecimal(v.counts.allocatable) + " allocatable, " +
                                   addr::toDecimal(v.counts.quarantined) + " quarantined)");
    }
  }
  if (req.address && !specific_pool) {
    if (auto holder = table_.idByIp("default", *req.address)) {
      undo();
      return Status::conflict("address: " + req.address->toString() + " is held by binding " +
                              std::to_string(*holder));
    }
    b.addresses.push_back({*req.address, ""});
  }
  if (req.mac) {
    Status s = macs_.claim(*req.mac, now);
    if (!s.isOk()) {
      undo();
      if (auto holder = table_.idByMac(*req.mac)) {
        return Status::conflict("mac: " + req.mac->toString() + " is held by binding " +
                                std::to_string(*holder) + " (" + table_.get(*holder)->instance +
                                ")");
      }
      return s;
    }
    b.mac = req.mac;
  } else if (!req.mac_pool.empty()) {
    auto mp = mac_pools_.find(req.mac_pool);
    if (mp == mac_pools_.end()) {
      undo();
      return Status::notFound("mac_pool: MAC pool \"" + req.mac_pool + "\" not found");
    }
    auto mac = mp->second.allocator->allocate(now, req.instance, req.interface);
    if (!mac) {
      undo();
      return mac.status().withContext("mac_pool \"" + req.mac_pool + "\"");
    }
    b.mac = *mac;
    b.mac_pool = req.mac_pool;
  }

  b.id = ++last_binding_id_;
  b.instance = req.instance;
  b.interface = req.interface;
  b.host = req.host;
  b.host_mac = req.host_mac;
  b.service = req.service;
  b.tenant = tenant;
  b.labels = req.labels;
  b.state = req.probe ? BindingState::kReserved : BindingState::kActive;
  b.is_static = req.is_static;
  b.created_at = b.updated_at = nowMs();
  std::int64_t ttl =
      req.ttl_s ? *req.ttl_s : (pools.empty() ? 0 : pools.front()->record.default_ttl_s);
  b.ttl_s = b.is_static ? 0 : ttl;
  b.expires_at = b.ttl_s == 0 ? 0 : b.created_at + b.ttl_s * 1000;
  b.version = 1;
  for (auto* p : pools) ++p->bindings;
  table_.insert(b);
  ++stats_.allocations;
  stats_.bindings = table_.size();

  std::vector<Write> writes;
  std::string json = dump(toJson(b));  // the audit event's "after" and the API's answer
  writes.push_back(PutBinding{b, 0});
  writes.push_back(
      AppendEvent{eventLocked(actor, "binding.allocate", "binding:" + std::to_string(b.id),
                              bindingKeys(b, true), "", json)});
  for (auto* p : pools) maybeExpandLocked(*p, writes, actor);
  auto ticket = pushLocked(std::move(writes));
  return Applied<BindingRecord>{std::move(b), true, ticket, std::move(json)};
}

Result<Applied<BindingRecord>> Ledger::renew(const Actor& actor, std::uint64_t id,
                                             std::optional<std::int64_t> ttl_s) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "renew"));
  if (ttl_s && (*ttl_s < 0 || *ttl_s > 3650LL * 86400)) {
    return Status::invalidArgument("ttl_s: must be 0 to 315360000");
  }
  std::lock_guard lock(mu_);
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord& b = *found;
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  std::string before = dump(toJson(b));
  Millis now = nowMs();
  if (ttl_s && !b.is_static) b.ttl_s = *ttl_s;
  std::uint64_t expected = b.version;
  b.updated_at = now;
  b.expires_at = b.ttl_s > 0 ? now + b.ttl_s * 1000 : 0;
  // No state change: a reserved binding is still being probed, and only the probe's outcome
  // (activate) may put it in use. Agents heartbeat all their bindings, probed or not.
  return commitBindingUpdateLocked(actor, "binding.renew", std::move(b), expected,
                                   std::move(before), false);
}

Result<Applied<BindingRecord>> Ledger::activate(const Actor& actor, std::uint64_t id) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "activate bindings"));
  std::lock_guard lock(mu_);
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord& b = *found;
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  if (b.state != BindingState::kReserved) {
    return Applied<BindingRecord>{std::move(b), false, latestTicketLocked()};
  }
  std::string before = dump(toJson(b));
  const std::uint64_t expected = b.version;
  b.state = BindingState::kActive;
  b.updated_at = nowMs();
  // The addresses join their histories here: from now on the binding really uses them.
  return commitBindingUpdateLocked(actor, "binding.activate", std::move(b), expected,
                                   std::move(before), true);
}

Applied<BindingRecord> Ledger::commitBindingUpdateLocked(const Actor& actor, std::string op,
                                                         BindingRecord b, std::uint64_t expected,
                                                         std::string before, bool address_keys) {
  b.version += 1;
  table_.update(b);
  std::string subject = "binding:" + std::to_string(b.id);
  auto keys = bindingKeys(b, address_keys);
  auto ticket =
      pushLocked({PutBinding{b, expected},
                  AppendEvent{eventLocked(actor, std::move(op), std::move(subject), std::move(keys),
                                          std::move(before), dump(toJson(b)))}});
  return Applied<BindingRecord>{std::move(b), true, ticket};
}

Result<Applied<std::size_t>> Ledger::renewHost(const Actor& actor, const std::string& host) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "renew"));
  NL_RETURN_IF_ERROR(validatePrintable("host", host, 253, true));
  std::lock_guard lock(mu_);
  Millis now = nowMs();
  std::vector<Write> writes;
  std::size_t renewed = 0;
  std::vector<std::uint64_t> ids;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    if (v.host == host && actor.mayAccessTenant(std::string(v.tenant))) ids.push_back(v.id);
    return true;
  });
  for (auto id : ids) {
    BindingRecord b = *table_.get(id);
    std::uint64_t expected = b.version;
    b.updated_at = now;
    if (b.ttl_s > 0) b.expires_at = now + b.ttl_s * 1000;
    b.version += 1;
    table_.update(b);
    writes.push_back(PutBinding{b, expected});
    ++renewed;
  }
  json::object after;
  after["host"] = host;
  after["renewed"] = renewed;
  // One event for the whole heartbeat: a node's bulk renew is one act, and a per-binding event
  // every interval would drown the audit log.
  writes.push_back(
      AppendEvent{eventLocked(actor, "host.renew", "host:" + host, {}, "", dump(after))});
  auto ticket = pushLocked(std::move(writes));
  return Applied<std::size_t>{renewed, true, ticket};
}

Result<BindingRecord> Ledger::endBindingLocked(const Actor& actor, std::uint64_t id, bool expire,
                                               std::vector<Write>& writes) {
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord b = std::move(*found);
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  const TimePoint now = clock_.now();
  const Millis now_ms = nowMs();
  for (const auto& a : b.addresses) {
    auto pool = pools_.find(a.pool);
    if (pool == pools_.end()) continue;
    --pool->second.bindings;
    if (auto* block = blockFor(pool->second, a.ip); block && block->release(a.ip, now).isOk()) {
      if (pool->second.record.quarantine_s > 0) {
        writes.push_back(PutQuarantine{
            {"ip", a.pool, a.ip.toString(), now_ms + pool->second.record.quarantine_s * 1000}});
      }
    }
  }
  if (b.mac) {
    std::int64_t hold = options_.mac_quarantine_s;
    if (auto mp = mac_pools_.find(b.mac_pool); mp != mac_pools_.end()) {
      hold = mp->second.record.quarantine_s;
    }
    if (macs_.release(*b.mac, now, std::chrono::seconds(hold)).isOk() && hold > 0) {
      writes.push_back(PutQuarantine{{"mac", b.mac_pool, b.mac->toString(), now_ms + hold * 1000}});
    }
  }
  table_.erase(id);
  stats_.bindings = table_.size();
  std::string before = dump(toJson(b));
  writes.push_back(DeleteBinding{b.id, b.version});
  b.state = expire ? BindingState::kExpired : BindingState::kReleased;
  b.updated_at = now_ms;
  b.version += 1;
  writes.push_back(AppendEvent{eventLocked(actor, expire ? "binding.expire" : "binding.release",
                                           "binding:" + std::to_string(b.id), bindingKeys(b, true),
                                           std::move(before), dump(toJson(b)))});
  return b;
}

Result<Applied<BindingRecord>> Ledger::release(const Actor& actor, std::uint64_t id) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "release"));
  std::lock_guard lock(mu_);
  std::vector<Write> writes;
  auto b = endBindingLocked(actor, id, false, writes);
  if (!b) return b.status();
  ++stats_.releases;
  auto ticket = pushLocked(std::move(writes));
  return Applied<BindingRecord>{std::move(b).value(), true, ticket};
}

Result<Applied<std::size_t>> Ledger::sweep() {
  Actor sweeper = Actor::system("sweeper");
  std::lock_guard lock(mu_);
  Millis now = nowMs();
  std::vector<std::uint64_t> due;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    if (!v.is_static && v.expires_at != 0 && v.expires_at <= now) due.push_back(v.id);
    return true;
  });
  std::vector<Write> writes;
  for (auto id : due) {
    if (endBindingLocked(sweeper, id, true, writes)) ++stats_.expirations;
  }
  if (writes.empty()) return Applied<std::size_t>{0, false, latestTicketLocked()};
  auto ticket = pushLocked(std::move(writes));
  return Applied<std::size_t>{due.size(), true, ticket};
}

Result<Applied<BindingRecord>> Ledger::migrate(const Actor& actor, std::uint64_t id,
                                               const std::string& host,
                                               std::optional<Mac> host_mac) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "migrate"));
  NL_RETURN_IF_ERROR(validatePrintable("host", host, 253, true));
  std::lock_guard lock(mu_);
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord& b = *found;
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  std::string before = dump(toJson(b));
  std::uint64_t expected = b.version;
  b.host = host;
  if (host_mac) b.host_mac = host_mac;
  b.updated_at = nowMs();  // a migration is not a renewal: the lease end stays
  return commitBindingUpdateLocked(actor, "binding.migrate", std::move(b), expected,
                                   std::move(before), true);
}

Result<Applied<BindingRecord>> Ledger::updateBinding(const Actor& actor, std::uint64_t id,
                                                     const BindingUpdate& update) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "update bindings"));
  if (update.host) NL_RETURN_IF_ERROR(validatePrintable("host", *update.host, 253, true));
  if (update.mac && (update.mac->isMulticast() || update.mac->isZero())) {
    return Status::invalidArgument("mac: " + update.mac->toString() +
                                   " is not a unicast station address");
  }
  std::lock_guard lock(mu_);
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord b = std::move(*found);
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  const bool new_mac = update.mac && update.mac != b.mac;
  const bool new_host = update.host && *update.host != b.host;
  const bool new_host_mac = update.host_mac && update.host_mac != b.host_mac;
  // The chained CNI plugin repeats its PATCH on every repeated ADD: facts already recorded are
  // no change, and no audit event.
  if (!new_mac && !new_host && !new_host_mac) {
    return Applied<BindingRecord>{std::move(b), false, latestTicketLocked()};
  }
  std::string before = dump(toJson(b));
  const std::uint64_t expected = b.version;
  const TimePoint now = clock_.now();
  const Millis now_ms = nowMs();
  std::vector<Write> writes;
  std::optional<Mac> old_mac;
  if (new_mac) {
    // Claimed before anything else changes: a refusal leaves memory as it was.
    if (Status s = macs_.claim(*update.mac, now); !s.isOk()) {
      if (auto holder = table_.idByMac(*update.mac)) {
        return Status::conflict("mac: " + update.mac->toString() + " is held by binding " +
                                std::to_string(*holder) + " (" + table_.get(*holder)->instance +
                                ")");
      }
      return s.withContext("mac");
    }
    if (b.mac) {
      old_mac = b.mac;
      std::int64_t hold = options_.mac_quarantine_s;
      if (auto mp = mac_pools_.find(b.mac_pool); mp != mac_pools_.end()) {
        hold = mp->second.record.quarantine_s;
      }
      // The old MAC's quarantine goes in the binding update's own batch: a crash cannot keep
      // one without the other.
      if (macs_.release(*b.mac, now, std::chrono::seconds(hold)).isOk() && hold > 0) {
        writes.push_back(
            PutQuarantine{{"mac", b.mac_pool, b.mac->toString(), now_ms + hold * 1000}});
      }
    }
    b.mac = update.mac;
    b.mac_pool.clear();  // no longer the pool's: an observed MAC
  }
  if (update.host) b.host = *update.host;
  if (update.host_mac) b.host_mac = update.host_mac;
  // Not a renewal (the lease end stays) and not an activation (a reserved binding is still
  // being probed; only the probe's outcome puts it in use).
  b.version += 1;
  b.updated_at = now_ms;
  table_.update(b);
  auto keys = bindingKeys(b, true);
  // The old MAC's history ends here: its lineage must show where it went.
  if (old_mac) keys.push_back("mac:" + old_mac->toString());
  writes.push_back(PutBinding{b, expected});
  writes.push_back(
      AppendEvent{eventLocked(actor, "binding.update", "binding:" + std::to_string(b.id),
                              std::move(keys), std::move(before), dump(toJson(b)))});
  auto ticket = pushLocked(std::move(writes));
  return Applied<BindingRecord>{std::move(b), true, ticket};
}

Result<Applied<BindingRecord>> Ledger::moveAddress(const Actor& actor, const IpAddress& ip,
                                                   std::uint64_t to) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "move addresses"));
  std::lock_guard lock(mu_);
  auto holders = holdersOfIpLocked(ip);
  if (holders.empty()) return Status::notFound("address " + ip.toString() + " is not held");
  if (holders.size() > 1) {
    return Status::conflict("address " + ip.toString() + " is held in " +
                            std::to_string(holders.size()) +
                            " networks; move it with the binding's own pools instead");
  }
  std::uint64_t from = holders.front();
  auto target = table_.get(to);
  if (!target) return Status::notFound("to: binding " + std::to_string(to) + " not found");
  BindingRecord a = *table_.get(from);
  BindingRecord& b = *target;
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, a));
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b).withContext("to"));
  if (from == to)
    return Status::invalidArgument("to: binding " + std::to_string(to) + " already holds " +
                                   ip.toString());
  if (a.tenant != b.tenant) {
    return Status::invalidArgument("to: binding " + std::to_string(to) +
                                   " belongs to another tenant");
  }
  std::string before = dump(toJson(a));
  auto pos = std::find_if(a.addresses.begin(), a.addresses.end(),
                          [&](const BoundAddress& x) { return x.ip == ip; });
  BoundAddress moved = *pos;
  a.addresses.erase(pos);
  b.addresses.push_back(moved);
  Millis now = nowMs();
  std::uint64_t ea = a.version, eb = b.version;
  a.version += 1;
  b.version += 1;
  a.updated_at = b.updated_at = now;
  table_.update(a);
  table_.update(b);
  std::vector<std::string> keys = {"ip:" + ip.toString(), "instance:" + a.instance,
                                   "instance:" + b.instance};
  auto ticket =
      pushLocked({PutBinding{a, ea}, PutBinding{b, eb},
                  AppendEvent{eventLocked(actor, "address.move", "binding:" + std::to_string(to),
                                          std::move(keys), std::move(before), dump(toJson(b)))}});
  return Applied<BindingRecord>{b, true, ticket};
}

Result<BindingRecord> Ledger::getBinding(const Actor& actor, std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto b = table_.get(id);
  if (!b) return Status::notFound("binding " + std::to_string(id) + " not found");
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, *b));
  return std::move(*b);
}

namespace {

bool containsFolded(std::string_view haystack, std::string_view needle) {
  auto it =
      std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != haystack.end();
}

std::vector<IpAddress> ipsOf(const BindingRecord& b) {
  std::vector<IpAddress> out;
  for (const auto& a : b.addresses) out.push_back(a.ip);
  return out;
}

}  // namespace

bool couldStartAddress(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-';
  });
}

bool matchesSearchText(std::string_view text, std::string_view instance, std::string_view host,
                       std::optional<Mac> mac, const std::vector<IpAddress>& ips) {
  if (text.empty()) return true;
  if (containsFolded(instance, text) || containsFolded(host, text)) return true;
  // Addresses and MACs match by prefix, and only text that could start one is tried.
  if (!couldStartAddress(text)) return false;
  if (mac) {
    std::string m = mac->toString();
    std::string t(text);
    std::replace(t.begin(), t.end(), '-', ':');
    if (m.starts_with(t)) return true;
  }
  for (const auto& ip : ips) {
    if (ip.toString().starts_with(text)) return true;
  }
  return false;
}

std::vector<AddressNetwork> Ledger::addressNetworks(const BindingRecord& binding) const {
  std::vector<AddressNetwork> out;
  out.reserve(binding.addresses.size());
  std::lock_guard lock(mu_);
  for (const auto& a : binding.addresses) {
    AddressNetwork n{a.ip, a.pool, std::nullopt, std::nullopt};
    if (auto pool = pools_.find(a.pool); !a.pool.empty() && pool != pools_.end()) {
      const PoolRecord& record = pool->second.record;
      auto cidr = std::find_if(record.cidrs.begin(), record.cidrs.end(),
                               [&](const addr::Prefix& c) { return c.contains(a.ip); });
      if (cidr != record.cidrs.end()) n.prefix = *cidr;
      if (n.prefix && record.gateway && n.prefix->contains(*record.gateway)) {
        n.gateway = record.gateway;
      }
    }
    out.push_back(std::move(n));
  }
  return out;
}

Result<Page<BindingRecord>> Ledger::searchBindings(const Actor& actor, const BindingFilter& f,
                                                   const std::string& cursor,
                                                   std::size_t limit) const {
  // The cursor is the table slot to resume from: stable for bindings that exist throughout the
  // paging, whatever is allocated or released meanwhile.
  std::size_t start = 0;
  if (!cursor.empty()) {
    char* end = nullptr;
    start = std::strtoull(cursor.c_str(), &end, 10);
    if (*end != '\0' || cursor.size() > 20 ||
        !std::isdigit(static_cast<unsigned char>(cursor[0]))) {
      return Status::invalidArgument("cursor: \"" + cursor.substr(0, 32) + "\" is not valid");
    }
  }
  if (limit == 0 || limit > 1000) return Status::invalidArgument("limit: must be 1 to 1000");
  std::lock_guard lock(mu_);
  Page<BindingRecord> page;
  // Exact-key filters use the indexes instead of a scan.
  if (f.mac || f.ip) {
    std::vector<std::uint64_t> ids;
    if (f.mac) {
      if (auto id = table_.idByMac(*f.mac)) ids.push_back(*id);
    } else {
      ids = holdersOfIpLocked(*f.ip);
    }
    std::sort(ids.begin(), ids.end());
    // Few candidates (one per network): the cursor is simply how many were already returned.
    for (std::size_t i = start; i < ids.size(); ++i) {
      if (page.items.size() == limit) {
        page.next_cursor = std::to_string(i);
        break;
      }
      auto b = table_.get(ids[i]);
      bool ok = actor.mayAccessTenant(b->tenant) && (!f.instance || b->instance == *f.instance) &&
                (!f.host || b->host == *f.host) && (!f.state || b->state == *f.state) &&
                (!f.ip || std::any_of(b->addresses.begin(), b->addresses.end(),
                                      [&](const BoundAddress& a) { return a.ip == *f.ip; })) &&
                (!f.mac || b->mac == f.mac) &&
                (!f.text || matchesSearchText(*f.text, b->instance, b->host, b->mac, ipsOf(*b))) &&
                (!f.pool || std::any_of(b->addresses.begin(), b->addresses.end(),
                                        [&](const BoundAddress& a) { return a.pool == *f.pool; }));
      if (ok) page.items.push_back(std::move(*b));
    }
    return page;
  }
  std::vector<IpAddress> ips;
  const bool text_addressy = f.text && couldStartAddress(*f.text);
  std::size_t resume = table_.scan(start, [&](std::size_t slot, const BindingTable::View& v) {
    if (!actor.mayAccessTenant(std::string(v.tenant))) return true;
    if (f.instance && v.instance != *f.instance) return true;
    if (f.host && v.host != *f.host) return true;
    if (f.state && v.state != *f.state) return true;
    if (f.pool && !table_.hasAddressInPool(slot, *f.pool)) return true;
    if (f.text) {
      ips.clear();
      // Formatting addresses is the costly part of a scan: only for text that could start one.
      if (text_addressy) {
        table_.forEachAddress(slot, [&](const IpAddress& ip) { ips.push_back(ip); });
      }
      std::optional<Mac> mac;
      if (v.mac != 0) mac = Mac(v.mac);
      if (!matchesSearchText(*f.text, v.instance, v.host, mac, ips)) return true;
    }
    if (page.items.size() == limit) return false;  // one more match exists: stop before it
    page.items.push_back(*table_.get(v.id));
    return true;
  });
  if (resume != BindingTable::npos) page.next_cursor = std::to_string(resume - 1);
  return page;
}

Result<BindingRecord> Ledger::holderOfAddress(const Actor& actor, const IpAddress& ip) const {
  std::lock_guard lock(mu_);
  for (auto id : holdersOfIpLocked(ip)) {
    auto b = table_.get(id);
    if (actor.mayAccessTenant(b->tenant)) return std::move(*b);
  }
  return Status::notFound("address " + ip.toString() + " is not held");
}

Result<BindingRecord> Ledger::holderOfMac(const Actor& actor, Mac mac) const {
  std::lock_guard lock(mu_);
  auto id = table_.idByMac(mac);
  if (id) {
    auto b = table_.get(*id);
    if (actor.mayAccessTenant(b->tenant)) return std::move(*b);
  }
  return Status::notFound("mac " + mac.toString() + " is not held");
}

// ---------------------------------------------------------------------------------------------
// Consistency-engine support

Result<Applied<BindingRecord>> Ledger::reassignAddress(const Actor& actor, std::uint64_t id,
                                                       const IpAddress& ip) {
  NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "reassign addresses"));
  std::lock_guard lock(mu_);
  auto found = table_.get(id);
  if (!found) return Status::notFound("binding " + std::to_string(id) + " not found");
  BindingRecord b = std::move(*found);
  NL_RETURN_IF_ERROR(checkBindingAccess(actor, b));
  if (b.is_static) {
    return Status::conflict("binding " + std::to_string(id) +
                            " is static: its addresses are never moved automatically");
  }
  auto pos = std::find_if(b.addresses.begin(), b.addresses.end(),
                          [&](const BoundAddress& a) { return a.ip == ip; });
  if (pos == b.addresses.end()) {
    return Status::invalidArgument("ip: binding " + std::to_string(id) + " does not hold " +
                                   ip.toString());
  }
  auto pool = pools_.find(pos->pool);
  if (pool == pools_.end()) {
    return Status::conflict("ip: " + ip.toString() +
                            " is not from a pool; there is nothing to reassign from");
  }
  const TimePoint now = clock_.now();
  // Take the new address first, so it cannot be the contested one.
  std::optional<IpAddress> fresh;
  for (auto& block : pool->second.blocks) {
    if (auto next = block->allocateNext(now)) {
      fresh = *next;
      break;
    }
  }
  if (!fresh) return Status::poolExhausted("pool \"" + pool->first + "\" is exhausted");
  std::vector<Write> writes;
  if (auto* block = blockFor(pool->second, ip); block && block->release(ip, now).isOk()) {
    if (pool->second.record.quarantine_s > 0) {
      writes.push_back(PutQuarantine{
          {"ip", pos->pool, ip.toString(), nowMs() + pool->second.record.quarantine_s * 1000}});
    }
  }
  std::string before = dump(toJson(b));
  const std::uint64_t expected = b.version;
  pos->ip = *fresh;
  b.version += 1;
  b.updated_at = nowMs();
  table_.update(b);
  auto keys = bindingKeys(b, true);
  keys.push_back("ip:" + ip.toString());
  writes.push_back(PutBinding{b, expected});
  writes.push_back(
      AppendEvent{eventLocked(actor, "binding.reassign", "binding:" + std::to_string(b.id),
                              std::move(keys), std::move(before), dump(toJson(b)))});
  auto ticket = pushLocked(std::move(writes));
  return Applied<BindingRecord>{std::move(b), true, ticket};
}

Result<Applied<DocumentRecord>> Ledger::putDocument(const Actor& actor, DocumentRecord document,
                                                    const std::string& op,
                                                    const std::string& subject,
                                                    std::vector<std::string> keys,
                                                    std::optional<std::string> audit_body) {
  if (document.kind.empty() || document.key.empty()) {
    return Status::invalidArgument("document: kind and key must not be empty");
  }
  std::lock_guard lock(mu_);
  auto& table = documents_[document.kind];
  auto it = table.find(document.key);
  const std::uint64_t expected = it == table.end() ? 0 : it->second.version;
  std::string before = it == table.end() ? std::string() : it->second.body;
  if (audit_body && it != table.end()) before = "";  // the old body may hold the secret too
  document.version = expected + 1;
  document.updated_at = nowMs();
  std::vector<Write> writes;
  writes.push_back(PutDocument{document, expected});
  if (!op.empty()) {
    writes.push_back(AppendEvent{eventLocked(actor, op, subject, std::move(keys), std::move(before),
                                             audit_body ? std::move(*audit_body) : document.body)});
  }
  table[document.key] = document;
  auto ticket = pushLocked(std::move(writes));
  return Applied<DocumentRecord>{std::move(document), expected == 0, ticket};
}

Result<Applied<DocumentRecord>> Ledger::deleteDocument(const Actor& actor, const std::string& kind,
                                                       const std::string& key,
                                                       const std::string& op,
                                                       const std::string& subject,
                                                       std::optional<std::string> audit_body) {
  std::lock_guard lock(mu_);
  auto table = documents_.find(kind);
  if (table == documents_.end() || !table->second.contains(key)) {
    return Status::notFound(kind + " \"" + key + "\" not found");
  }
  DocumentRecord old = std::move(table->second.at(key));
  table->second.erase(key);
  std::vector<Write> writes;
  writes.push_back(DeleteDocument{kind, key, old.version});
  if (!op.empty()) {
    writes.push_back(AppendEvent{
        eventLocked(actor, op, subject, {}, audit_body ? std::move(*audit_body) : old.body, "")});
  }
  auto ticket = pushLocked(std::move(writes));
  return Applied<DocumentRecord>{std::move(old), true, ticket};
}

std::vector<DocumentRecord> Ledger::documents(const std::string& kind) const {
  std::lock_guard lock(mu_);
  std::vector<DocumentRecord> out;
  if (auto it = documents_.find(kind); it != documents_.end()) {
    for (const auto& [key, d] : it->second) out.push_back(d);
  }
  return out;
}

std::optional<DocumentRecord> Ledger::document(const std::string& kind,
                                               const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = documents_.find(kind);
  if (it == documents_.end()) return std::nullopt;
  auto d = it->second.find(key);
  if (d == it->second.end()) return std::nullopt;
  return d->second;
}

BindingBrief Ledger::briefLocked(std::uint64_t id) const {
  BindingBrief brief;
  auto b = table_.get(id);
  if (!b) return brief;
  brief.id = b->id;
  brief.instance = std::move(b->instance);
  brief.host = std::move(b->host);
  brief.mac = b->mac;
  brief.state = b->state;
  brief.is_static = b->is_static;
  brief.expires_at = b->expires_at;
  brief.updated_at = b->updated_at;
  return brief;
}

std::vector<WireFacts> Ledger::lookupWire(std::span<const WireQuery> queries) const {
  std::lock_guard lock(mu_);
  std::vector<WireFacts> out(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const WireQuery& q = queries[i];
    WireFacts& f = out[i];
    if (auto id = table_.idByMac(q.mac)) f.mac_holder = briefLocked(*id);
    if (!q.ip) continue;
    if (auto id = table_.idByIp(q.network, *q.ip)) {
      f.ip_holder = f.mac_holder && f.mac_holder->id == *id ? f.mac_holder : briefLocked(*id);
    }
    for (const auto& [name, p] : pools_) {
      if (p.record.network != q.network) continue;
      f.network_managed = true;
      if (!p.children.empty()) continue;  // a parent: the address belongs to a child
      if (p.record.external) {
        f.external = f.external || std::any_of(p.record.cidrs.begin(), p.record.cidrs.end(),
                                               [&](const Prefix& c) { return c.contains(*q.ip); });
        continue;
      }
      if (!f.pool.empty()) continue;  // keep looking for external pools only
      bool inside = std::any_of(p.record.cidrs.begin(), p.record.cidrs.end(),
                                [&](const Prefix& c) { return c.contains(*q.ip); });
      if (!inside) continue;
      f.pool = name;
      f.gateway = p.record.gateway == q.ip;
      f.reserved = std::any_of(p.record.reserved.begin(), p.record.reserved.end(),
                               [&](const addr::IpRange& r) { return r.contains(*q.ip); });
    }
  }
  return out;
}

std::pair<std::vector<std::uint64_t>, std::size_t> Ledger::bindingsUnchangedSince(
    Millis before, std::size_t cursor, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> ids;
  std::size_t next = table_.scan(cursor, [&](std::size_t, const BindingTable::View& v) {
    if (v.state == BindingState::kActive && v.updated_at < before) ids.push_back(v.id);
    return ids.size() < limit;
  });
  return {std::move(ids), next == BindingTable::npos ? 0 : next};
}

LedgerStats Ledger::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// ---------------------------------------------------------------------------------------------
// History

namespace {

bool endsHolding(const EventRecord& e) {
  return e.op != "binding.release" && e.op != "binding.expire";
}

std::optional<BindingRecord> bindingOf(const std::string& text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return std::nullopt;
  auto b = bindingFromJson(v);
  if (!b) return std::nullopt;
  return *b;
}

HistoryEntry entryOf(const EventRecord& e, const std::string& key) {
  HistoryEntry h;
  h.event = e;
  h.holder = bindingOf(e.after.empty() ? e.before : e.after);
  h.holds = endsHolding(e);
  // An address taken away by the event (a reassignment) is not held by its "after" binding.
  if (h.holds && h.holder && key.rfind("ip:", 0) == 0) {
    const std::string_view ip = std::string_view(key).substr(3);
    h.holds = std::any_of(h.holder->addresses.begin(), h.holder->addresses.end(),
                          [&](const BoundAddress& a) { return a.ip.toString() == ip; });
  }
  // A move takes the address from the "before" binding: for that binding's keys it ends.
  if (e.op == "address.move" && key.rfind("instance:", 0) == 0) {
    auto before = bindingOf(e.before);
    if (before && "instance:" + before->instance == key) {
      h.holder = before;
      h.holds = true;
    }
  }
  return h;
}

}  // namespace

Result<HistoryEntry> Ledger::holderAt(const std::string& key, Millis at) const {
  EventQuery q;
  q.key = key;
  q.to = at;
  q.before_seq = UINT64_MAX;
  q.limit = 16;
  auto events = store_.queryEvents(q);
  if (!events) return events.status();
  for (const auto& e : *events) {
    if (e.op == "binding.renew") continue;  // renewals carry no address keys; skip defensively
    HistoryEntry h = entryOf(e, key);
    if (!h.holds) {
      return Status::notFound(key + " was not held at " + formatTime(at) + " (" + e.op + " at " +
                              formatTime(e.time) + " by " + e.actor + ")");
    }
    return h;
  }
  return Status::notFound("no record of " + key + " at or before " + formatTime(at));
}

Result<std::vector<HistoryEntry>> Ledger::lineage(const std::string& key, Millis from, Millis to,
                                                  std::size_t limit) const {
  std::vector<HistoryEntry> out;
  if (from > 0) {
    auto start = holderAt(key, from);
    if (start) out.push_back(*start);
  }
  EventQuery q;
  q.key = key;
  q.from = from;
  q.to = to;
  q.limit = limit;
  auto events = store_.queryEvents(q);
  if (!events) return events.status();
  for (const auto& e : *events) {
    if (!out.empty() && out.front().event.seq == e.seq) continue;
    out.push_back(entryOf(e, key));
  }
  return out;
}

Result<std::vector<EventRecord>> Ledger::audit(const EventQuery& query) const {
  return store_.queryEvents(query);
}

}  // namespace netledger::ledger
