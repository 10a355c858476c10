#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"

namespace netledger::engine {
namespace json = boost::json;
using ledger::Actor;
using ledger::Applied;
using ledger::DocumentRecord;

namespace {

bool isLinkLocal(const addr::IpAddress& ip) {
  if (ip.isV4()) return (ip.bits() >> 16) == 0xa9fe;  // 169.254.0.0/16
  return (ip.bits() >> 118) == 0x3fa;                 // fe80::/10
}

bool isUnspecified(const addr::IpAddress& ip) { return ip.bits() == 0; }

std::string seconds(Millis ms) { return std::to_string(ms / 1000) + " s"; }

bool matches(const ConflictFilter& f, const Conflict& c) {
  if (f.kind && c.kind != *f.kind) return false;
  if (f.status && c.status != *f.status) return false;
  if (f.min_severity && c.severity < *f.min_severity) return false;
  if (f.network && c.network != *f.network) return false;
  if (f.subject && c.subject != *f.subject) return false;
  if (f.ip && c.ip != *f.ip) return false;
  if (f.mac && c.mac != *f.mac && std::find(c.macs.begin(), c.macs.end(), *f.mac) == c.macs.end()) {
    return false;
  }
  if (f.binding_id && c.binding_id != f.binding_id) return false;
  return true;
}

}  // namespace

const Actor& Engine::engineActor() {
  static const Actor actor = Actor::system("engine");
  return actor;
}

std::size_t Engine::IpKeyHash::operator()(const IpKey& k) const noexcept {
  std::size_t h = std::hash<std::string>()(k.network);
  auto bits = k.ip.bits();
  h ^= std::hash<std::uint64_t>()(static_cast<std::uint64_t>(bits)) + 0x9e3779b97f4a7c15ULL +
       (h << 6) + (h >> 2);
  h ^= std::hash<std::uint64_t>()(static_cast<std::uint64_t>(bits >> 64)) + (h << 6) + (h >> 2);
  return h;
}

Engine::Engine(LedgerPort& ledger, Clock& clock, EngineOptions options)
    : ledger_(ledger), clock_(clock), options_(std::move(options)) {
  policies_ = options_.policies;
}

Engine::~Engine() { stop(); }

Millis Engine::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

void Engine::start() {
  std::lock_guard lock(queue_mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { workerLoop(); });
}

void Engine::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(mu_);
  flushDirty();
}

Status Engine::submit(std::vector<Observation> batch) {
  if (batch.empty()) return Status::ok();
  {
    std::lock_guard lock(queue_mu_);
    if (queued_ + batch.size() > options_.queue_max) {
      std::lock_guard stats_lock(mu_);
      stats_.dropped += batch.size();
      return Status::unavailable("the engine is busy (" + std::to_string(queued_) +
                                 " observations queued); retry shortly");
    }
    queued_ += batch.size();
    ++submitted_batches_;
    queue_.push_back(std::move(batch));
  }
  queue_cv_.notify_one();
  return Status::ok();
}

void Engine::drain() {
  std::unique_lock lock(queue_mu_);
  const std::uint64_t target = submitted_batches_;
  drained_cv_.wait(lock, [&] { return processed_batches_ >= target || !worker_.joinable(); });
}

void Engine::processQueued() {
  applyDocumentChanges();
  std::unique_lock lock(queue_mu_);
  while (!queue_.empty()) processFrontLocked(lock);
}

void Engine::processFrontLocked(std::unique_lock<std::mutex>& lock) {
  std::vector<Observation> batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  process(batch);
  lock.lock();
  queued_ -= batch.size();
  ++processed_batches_;
  drained_cv_.notify_all();
}

void Engine::workerLoop() {
  auto next_tick = std::chrono::steady_clock::now();
  std::unique_lock lock(queue_mu_);
  while (true) {
    queue_cv_.wait_until(lock, next_tick,
                         [&] { return stopping_ || !queue_.empty() || changes_pending_; });
    if (stopping_) break;
    if (changes_pending_) {  // before observations: they may add to a conflict just learned of
      lock.unlock();
      applyDocumentChanges();
      lock.lock();
    }
    while (!queue_.empty() && !stopping_) processFrontLocked(lock);
    if (std::chrono::steady_clock::now() >= next_tick) {
      lock.unlock();
      tick();
      lock.lock();
      next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.tick_ms);
    }
  }
  processed_batches_ = submitted_batches_;
  drained_cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Detection

void Engine::process(const std::vector<Observation>& batch) {
  std::vector<ledger::WireQuery> queries;
  queries.reserve(batch.size());
  for (const auto& o : batch) queries.push_back({o.network, o.ip, o.mac});
  auto facts = ledger_.lookupWire(queries);
  {
    // One lock per batch, not per observation: wireView() readers wait at most one batch.
    std::lock_guard wire(wire_mu_);
    batch_now_ms_ = nowMs();  // one clock read per batch, not one per observation
    for (std::size_t i = 0; i < batch.size(); ++i) inspect(batch[i], facts[i]);
  }
  std::lock_guard lock(mu_);
  stats_.observations += batch.size();
  ++stats_.batches;
}

void Engine::inspect(const Observation& o, const ledger::WireFacts& facts) {
  if (!observed_since_.contains(o.network)) observed_since_.emplace(o.network, nowMs());
  recordSighting(o);
  MacTrack& track = macs_[o.mac.value()];
  track.last = std::max(track.last, o.time);
  checkFlapping(o, track);
  if (o.ip && !isUnspecified(*o.ip)) checkIp(o, facts);
  checkMac(o, facts, track);
}

void Engine::checkFlapping(const Observation& o, MacTrack& track) {
  if (o.host.empty() && o.interface.empty()) return;
  std::string location = o.host + "|" + o.interface;
  if (track.location.empty() || track.location == location) {
    track.location = std::move(location);
    return;
  }
  std::string from = track.location;
  track.location = location;
  track.changes.push_back(o.time);
  while (!track.changes.empty() && track.changes.front() < o.time - options_.flap_window_ms) {
    track.changes.pop_front();
  }
  if (static_cast<int>(track.changes.size()) <= options_.flap_changes) return;
  Detection f{ConflictKind::kMacFlapping};
  f.network = o.network;
  f.mac = o.mac.toString();
  f.subject = "mac:" + f.mac;
  f.message = f.mac + " moved " + std::to_string(track.changes.size()) + " times in " +
              seconds(options_.flap_window_ms) + " (last: " + from + " -> " + location + ")";
  f.details["changes"] = track.changes.size();
  f.details["from"] = from;
  f.details["to"] = location;
  f.evidence = &o;
  raise(std::move(f));
}

void Engine::checkIp(const Observation& o, const ledger::WireFacts& facts) {
  checkDuplicateIp(o, facts, ips_[IpKey{o.network, *o.ip}]);
  if (!claimsAddress(o)) return;
  if (facts.ip_holder) return checkIpHolder(o, facts);
  checkUnknownStation(o, facts);
}

void Engine::checkDuplicateIp(const Observation& o, const ledger::WireFacts& facts,
                              IpTrack& track) {
  const std::string ip_text = o.ip->toString();
  const Millis window_start = o.time - options_.duplicate_window_ms;
  std::erase_if(track.claims, [&](const IpClaim& c) { return c.last < window_start; });
  if (claimsAddress(o)) {
    auto it = std::find_if(track.claims.begin(), track.claims.end(),
                           [&](const IpClaim& c) { return c.mac == o.mac; });
    if (it == track.claims.end()) {
      track.claims.push_back({o.mac, o.time});
    } else {
      it->last = std::max(it->last, o.time);
    }
  }
  // Two stations claiming one address; a probe (ARP probe, DAD) for an address another
  // station claims is the same conflict one step earlier.
  const bool other_claims = std::any_of(track.claims.begin(), track.claims.end(),
                                        [&](const IpClaim& c) { return c.mac != o.mac; });
  if (!other_claims || !(claimsAddress(o) || probesAddress(o))) return;
  Detection f{ConflictKind::kDuplicateIp};
  f.network = o.network;
  f.ip = ip_text;
  f.subject = "ip:" + ip_text;
  for (const auto& c : track.claims) f.macs.push_back(c.mac.toString());
  if (probesAddress(o)) f.macs.push_back(o.mac.toString());
  std::sort(f.macs.begin(), f.macs.end());
  f.macs.erase(std::unique(f.macs.begin(), f.macs.end()), f.macs.end());
  if (facts.ip_holder) {
    f.binding_id = facts.ip_holder->id;
    if (facts.ip_holder->mac) f.mac = facts.ip_holder->mac->toString();
  }
  f.pool = facts.pool;
  std::string list;
  for (const auto& m : f.macs) list += (list.empty() ? "" : ", ") + m;
  f.message = ip_text + " is claimed by " + std::to_string(f.macs.size()) + " MACs (" + list + ")" +
              (probesAddress(o) ? " — a probe met an address in use" : "");
  f.evidence = &o;
  raise(std::move(f));
}

void Engine::checkIpHolder(const Observation& o, const ledger::WireFacts& facts) {
  const std::string ip_text = o.ip->toString();
  const ledger::BindingBrief& h = *facts.ip_holder;
  if (h.mac && *h.mac != o.mac) {
    Detection f{ConflictKind::kBindingMismatch};
    f.network = o.network;
    f.ip = ip_text;
    f.subject = "ip:" + ip_text;
    f.mac = o.mac.toString();
    f.binding_id = h.id;
    f.pool = facts.pool;
    f.details["bound_mac"] = h.mac->toString();
    f.details["seen_mac"] = f.mac;
    f.message = ip_text + " is bound to " + h.mac->toString() + " (binding " +
                std::to_string(h.id) + ", " + h.instance + ") but was seen with " + f.mac;
    f.evidence = &o;
    raise(std::move(f));
    return;
  }
  binding_seen_[h.id] = seenAt(o);
  if (h.is_static || h.expires_at == 0 || h.expires_at >= o.time) return;
  Detection f{ConflictKind::kStaleBinding};
  f.network = o.network;
  f.ip = ip_text;
  f.mac = o.mac.toString();
  f.subject = "binding:" + std::to_string(h.id);
  f.binding_id = h.id;
  f.pool = facts.pool;
  f.message = "binding " + std::to_string(h.id) + " (" + h.instance + ") expired at " +
              ledger::formatTime(h.expires_at) + " without a renewal, yet " + ip_text +
              " is still in use";
  f.evidence = &o;
  raise(std::move(f));
}

void Engine::checkUnknownStation(const Observation& o, const ledger::WireFacts& facts) {
  const addr::IpAddress& ip = *o.ip;
  if (isLinkLocal(ip) || !facts.network_managed || facts.gateway || facts.reserved ||
      facts.external) {
    return;
  }
  const std::string ip_text = ip.toString();
  Detection f{ConflictKind::kUnknownStation};
  f.network = o.network;
  f.ip = ip_text;
  f.mac = o.mac.toString();
  f.subject = "ip:" + ip_text;
  f.pool = facts.pool;
  f.message = facts.pool.empty() ? ip_text + " (" + f.mac + ") is in managed network \"" +
                                       o.network + "\" but outside every pool"
                                 : ip_text + " (" + f.mac + ") is in pool \"" + facts.pool +
                                       "\" but the ledger never gave it out";
  f.evidence = &o;
  raise(std::move(f));
}

void Engine::checkMac(const Observation& o, const ledger::WireFacts& facts, MacTrack& track) {
  if (!facts.mac_holder) return;
  const ledger::BindingBrief& h = *facts.mac_holder;
  if (!o.ip || (facts.ip_holder && facts.ip_holder->id == h.id)) binding_seen_[h.id] = seenAt(o);
  std::string recorded = h.host;
  if (!recorded.empty() && !o.host.empty() && o.host != recorded) {
    // The facts were looked up for the whole batch: a migration recorded since (for an earlier
    // sighting in this batch, or by an API client) is not in them. Ask again before calling it
    // a drift; drift sightings are rare enough for the lookup.
    auto now_recorded = ledger_.getBinding(engineActor(), h.id);
    recorded = now_recorded ? now_recorded->host : std::string();
  }
  if (recorded.empty() || o.host.empty() || o.host == recorded) {
    track.drift_host.clear();
    track.drift_count = 0;
    return;
  }
  if (track.drift_host != o.host) {
    track.drift_host = o.host;
    track.drift_count = 0;
  }
  ++track.drift_count;
  Detection f{ConflictKind::kMacDrift};
  f.network = o.network;
  f.mac = o.mac.toString();
  f.subject = "mac:" + f.mac;
  if (o.ip) f.ip = o.ip->toString();
  f.binding_id = h.id;
  f.details["recorded_host"] = recorded;
  f.details["seen_host"] = o.host;
  f.details["confirmations"] = track.drift_count;
  f.message = f.mac + " (binding " + std::to_string(h.id) + ", " + h.instance +
              ") is recorded on host \"" + recorded + "\" but was seen on \"" + o.host + "\"";
  f.evidence = &o;
  raise(std::move(f));
}

// ---------------------------------------------------------------------------------------------
// Conflicts

Policy Engine::policyLocked(ConflictKind kind) const {
  auto it = policies_.find(kind);
  return it == policies_.end() ? Policy::kAlert : it->second;
}

void Engine::appendEvidence(Conflict& c, const Observation* evidence) const {
  if (evidence == nullptr) return;
  c.evidence.push_back(toJson(*evidence));
  if (c.evidence.size() > options_.evidence_max) c.evidence.erase(c.evidence.begin());
}

Conflict* Engine::unresolvedLocked(const ConflictKey& key) {
  auto found = unresolved_.find(key);
  if (found == unresolved_.end()) {
    if (auto alias = aliases_.find(key); alias != aliases_.end()) {
      auto c = conflicts_.find(alias->second);
      if (c != conflicts_.end() && c->second.status != ConflictStatus::kResolved) {
        found = unresolved_.find({c->second.kind, c->second.network, c->second.subject});
      } else {
        aliases_.erase(alias);
      }
    }
  }
  return found == unresolved_.end() ? nullptr : &conflicts_.at(found->second);
}

std::uint64_t Engine::addEvidenceLocked(Conflict& c, Detection& f, Millis now) {
  if (f.counts) ++c.count;
  c.last_seen = std::max(c.last_seen, now);
  for (auto& m : f.macs) {
    if (std::find(c.macs.begin(), c.macs.end(), m) == c.macs.end()) c.macs.push_back(m);
  }
  if (!f.details.empty()) c.details = std::move(f.details);
  if (f.severity) c.severity = *f.severity;
  if (!f.message.empty()) c.message = std::move(f.message);
  appendEvidence(c, f.evidence);
  dirty_.insert(c.id);
  // A drift confirmed after the conflict opened may now meet the migration policy.
  if (c.kind == ConflictKind::kMacDrift && c.remediation.action.empty()) remediate(c, f.evidence);
  return c.id;
}

Conflict Engine::newConflictLocked(Detection& f, Millis now) {
  Conflict c;
  c.id = last_id_ = ledger::nextForWriter(last_id_, options_.writer_slot);
  c.kind = f.kind;
  c.severity = f.severity.value_or(defaultSeverity(f.kind));
  c.network = std::move(f.network);
  c.subject = std::move(f.subject);
  c.ip = std::move(f.ip);
  c.mac = std::move(f.mac);
  c.macs = std::move(f.macs);
  c.binding_id = f.binding_id;
  c.pool = std::move(f.pool);
  c.message = std::move(f.message);
  c.details = std::move(f.details);
  c.first_seen = c.last_seen = now;
  c.count = 1;
  c.policy = policyLocked(c.kind);
  appendEvidence(c, f.evidence);
  return c;
}

// An address nobody holds whose last holder had this very MAC: the lease ran out but the
// station kept the address (stale), rather than a stranger (unknown).
std::optional<std::uint64_t> Engine::rewriteAsStaleLocked(Conflict& c, ConflictKey& key, Millis now,
                                                          const Observation* evidence) {
  if (c.kind != ConflictKind::kUnknownStation || c.ip.empty()) return std::nullopt;
  ledger::EventQuery q;
  q.key = "ip:" + c.ip;
  q.before_seq = std::numeric_limits<std::uint64_t>::max();
  q.limit = 1;
  auto last = ledger_.audit(q);
  if (!last || last->empty() ||
      (last->front().op != "binding.expire" && last->front().op != "binding.release" &&
       last->front().op != "binding.reassign")) {
    return std::nullopt;
  }
  json::error_code ec;
  auto before = json::parse(last->front().before, ec);
  auto held = ec ? Result<ledger::BindingRecord>(Status::invalidArgument("x"))
                 : ledger::bindingFromJson(before);
  if (!held || !held->mac || held->mac->toString() != c.mac) return std::nullopt;
  const ConflictKey original_key = key;
  c.kind = ConflictKind::kStaleBinding;
  c.severity = defaultSeverity(c.kind);
  c.binding_id = held->id;
  c.policy = policyLocked(c.kind);
  c.message = "binding " + std::to_string(held->id) + " (" + held->instance + ") ended (" +
              last->front().op + " at " + ledger::formatTime(last->front().time) + ") yet " + c.ip +
              " is still in use by its MAC " + c.mac;
  // The binding is the subject, as for an expired lease seen before the sweep: one conflict
  // for one stale binding, whichever way it was noticed.
  c.subject = "binding:" + std::to_string(held->id);
  key = std::make_tuple(c.kind, c.network, c.subject);
  if (auto it = unresolved_.find(key); it != unresolved_.end()) {
    Conflict& open = conflicts_.at(it->second);
    ++open.count;
    open.last_seen = std::max(open.last_seen, now);
    appendEvidence(open, evidence);
    dirty_.insert(open.id);
    last_id_ = c.id - 1;  // not taken after all (nextForWriter gives c.id again)
    aliases_[original_key] = open.id;
    return open.id;
  }
  aliases_[original_key] = c.id;
  return std::nullopt;
}

std::uint64_t Engine::report(const Report& r) {
  Detection f{r.kind};
  f.network = r.network;
  f.subject = r.subject;
  f.ip = r.ip;
  f.mac = r.mac;
  f.pool = r.pool;
  f.message = r.message;
  f.macs = r.macs;
  f.details = r.details;
  f.evidence = &r.evidence;
  return raise(std::move(f));
}

std::uint64_t Engine::raise(Detection f) {
  std::lock_guard lock(mu_);
  const Millis now = f.evidence != nullptr ? f.evidence->time : nowMs();
  ConflictKey key{f.kind, f.network, f.subject};
  if (Conflict* open = unresolvedLocked(key)) return addEvidenceLocked(*open, f, now);
  Conflict c = newConflictLocked(f, now);
  if (auto joined = rewriteAsStaleLocked(c, key, now, f.evidence)) return *joined;
  unresolved_[key] = c.id;
  ++stats_.opened;
  auto [it, inserted] = conflicts_.emplace(c.id, std::move(c));
  Conflict& stored = it->second;
  (void)persistLocked(stored, "conflict.opened", "engine");
  remediate(stored, f.evidence);
  return stored.id;
}

void Engine::remediate(Conflict& c, const Observation* trigger) {
  const Millis now = trigger != nullptr ? trigger->time : nowMs();
  auto record = [&](std::string action, bool ok, std::string result) {
    c.remediation = {std::move(action), std::move(result), now, ok};
    ok ? ++stats_.remediations : ++stats_.remediation_failures;
  };
  if (c.policy == Policy::kQuarantineAndReassign && c.kind == ConflictKind::kDuplicateIp) {
    if (!c.binding_id) {
      record("quarantine_and_reassign", false, "no binding holds " + c.ip + "; alert only");
    } else if (auto ip = addr::IpAddress::parse(c.ip); ip) {
      auto done = ledger_.reassignAddress(engineActor(), *c.binding_id, *ip);
      if (done) {
        std::string fresh;
        for (const auto& a : done->value.addresses) {
          if (a.ip.family() == ip->family()) fresh = a.ip.toString();
        }
        record("quarantine_and_reassign", true,
               "binding " + std::to_string(*c.binding_id) + " moved from " + c.ip + " to " + fresh +
                   "; " + c.ip + " quarantined");
        c.details["reassigned_to"] = fresh;
      } else if (done.status().code() == StatusCode::kConflict &&
                 done.status().message().find("static") != std::string::npos) {
        record("quarantine_and_reassign", false,
               "binding " + std::to_string(*c.binding_id) + " is static: never moved, alert only");
      } else {
        record("quarantine_and_reassign", false, done.status().message());
      }
    }
    (void)persistLocked(c, "conflict.remediated", "engine");
    return;
  }
  if (c.policy == Policy::kRecordMigration && c.kind == ConflictKind::kMacDrift && c.binding_id) {
    const json::value* confirmations = c.details.if_contains("confirmations");
    const json::value* host = c.details.if_contains("seen_host");
    if (confirmations == nullptr || host == nullptr || !host->is_string() ||
        confirmations->to_number<int>() < options_.drift_confirmations) {
      return;  // not confirmed yet: wait for the new host to see it again
    }
    std::string new_host(host->get_string());
    auto done = ledger_.migrate(engineActor(), *c.binding_id, new_host, std::nullopt);
    if (done) {
      record("record_migration", true,
             "binding " + std::to_string(*c.binding_id) + " recorded on host \"" + new_host + "\"");
      (void)persistLocked(c, "conflict.remediated", "engine");
      c.status = ConflictStatus::kResolved;
      c.resolved_by = "engine";
      c.resolved_at = now;
      c.resolution = "migration recorded";
      unindexLocked(c);
      ++stats_.resolved;
      (void)persistLocked(c, "conflict.resolved", "engine");
    } else {
      record("record_migration", false, done.status().message());
      (void)persistLocked(c, "conflict.remediated", "engine");
    }
  }
}

Result<Applied<Conflict>> Engine::transition(const Actor& actor, std::uint64_t id,
                                             ConflictStatus to, const std::string& note) {
  if (note.size() > 1024) return Status::invalidArgument("note: longer than 1024 bytes");
  std::lock_guard lock(mu_);
  auto it = conflicts_.find(id);
  if (it == conflicts_.end()) {
    return Status::notFound("conflict " + std::to_string(id) + " not found");
  }
  Conflict& c = it->second;
  // Idempotent: acknowledging an acknowledged (or resolved) conflict, or resolving a resolved
  // one, changes nothing.
  if (c.status == to || c.status == ConflictStatus::kResolved) {
    return Applied<Conflict>{c, false, 0};
  }
  const Millis now = nowMs();
  std::string op;
  if (to == ConflictStatus::kAcknowledged) {
    c.acknowledged_by = actor.name;
    c.acknowledged_at = now;
    op = "conflict.acknowledged";
  } else {
    c.resolved_by = actor.name;
    c.resolved_at = now;
    c.resolution = note.empty() ? "resolved by " + actor.name : note;
    unindexLocked(c);
    ++stats_.resolved;
    op = "conflict.resolved";
  }
  c.status = to;
  auto ticket = persistLocked(c, op, actor.name);
  if (!ticket) {
    // Changed elsewhere since this engine read it: read it again; the caller runs this again.
    if (ticket.status().code() != StatusCode::kConflict) return ticket.status();
    resyncLocked();
    return Status::aborted("conflict " + std::to_string(id) +
                           " was changed on another replica meanwhile; run it again");
  }
  return Applied<Conflict>{c, true, *ticket};
}

Result<Applied<Conflict>> Engine::acknowledge(const Actor& actor, std::uint64_t id,
                                              const std::string& note) {
  applyDocumentChanges();  // act on what the ledger holds now
  return transition(actor, id, ConflictStatus::kAcknowledged, note);
}

Result<Applied<Conflict>> Engine::resolve(const Actor& actor, std::uint64_t id,
                                          const std::string& note) {
  applyDocumentChanges();
  return transition(actor, id, ConflictStatus::kResolved, note);
}

Result<ledger::Page<Conflict>> Engine::list(const ConflictFilter& filter, const std::string& cursor,
                                            std::size_t limit) const {
  // (An empty page would have no last id to continue from.)
  if (limit == 0) return Status::invalidArgument("limit: must be at least 1");
  std::uint64_t below = std::numeric_limits<std::uint64_t>::max();
  if (!cursor.empty()) {
    auto parsed = parseUnsigned("cursor", cursor);
    if (!parsed) return parsed.status();
    below = *parsed;
  }
  std::lock_guard lock(mu_);
  ledger::Page<Conflict> page;
  for (auto it = std::make_reverse_iterator(conflicts_.lower_bound(below)); it != conflicts_.rend();
       ++it) {
    if (!matches(filter, it->second)) continue;
    if (page.items.size() == limit) {
      page.next_cursor = std::to_string(page.items.back().id);
      break;
    }
    page.items.push_back(it->second);
  }
  return page;
}

Result<Conflict> Engine::get(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = conflicts_.find(id);
  if (it == conflicts_.end()) {
    return Status::notFound("conflict " + std::to_string(id) + " not found");
  }
  return it->second;
}

std::map<ConflictKind, Policy> Engine::policies() const {
  std::lock_guard lock(mu_);
  std::map<ConflictKind, Policy> out;
  for (ConflictKind k : kAllConflictKinds) out[k] = policyLocked(k);
  return out;
}

Result<std::uint64_t> Engine::setPolicies(const Actor& actor,
                                          const std::map<ConflictKind, Policy>& changes) {
  for (const auto& [kind, policy] : changes) NL_RETURN_IF_ERROR(checkPolicy(kind, policy));
  std::lock_guard lock(mu_);
  std::uint64_t ticket = 0;
  for (const auto& [kind, policy] : changes) {
    policies_[kind] = policy;
    DocumentRecord d{kPolicyKind, std::string(conflictKindName(kind)),
                     std::string(policyName(policy))};
    auto applied = ledger_.putDocument(actor, std::move(d), "policy.update",
                                       "policy:" + std::string(conflictKindName(kind)),
                                       std::nullopt);  // the last word on a policy wins
    if (!applied) return applied.status();
    ticket = applied->ticket;
  }
  return ticket;
}

EngineStats Engine::stats() const {
  EngineStats s;
  {
    std::lock_guard lock(mu_);
    s = stats_;
    for (const auto& [key, id] : unresolved_) {
      ++s.open_by_kind[std::string(conflictKindName(std::get<0>(key)))];
    }
  }
  {
    std::lock_guard wire(wire_mu_);
    s.wire_view_dropped = wire_view_dropped_;
  }
  std::lock_guard lock(queue_mu_);
  s.queued = queued_;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Periodic checks

void Engine::tick() {
  const Millis now = nowMs();
  // The scans of the shared ledger (utilization, never-seen) and the settling of conflicts
  // (quiet periods, retention) run on the elected replica only: every replica holds every
  // conflict (documentsChanged), so each would otherwise open, resolve or forget it once per
  // replica. The others learn the outcome from the ledger.
  const bool leads = !leading_ || leading_();
  if (leads) {
    checkPools(now);
    if (now - last_never_seen_check_ >= 60'000) {
      last_never_seen_check_ = now;
      checkNeverSeen(now);
    }
  }
  const bool prune = now - last_prune_ >= 60'000;
  if (prune) pruneWireView(now);  // takes wire_mu_, never under mu_ (process() nests the other way)
  std::lock_guard lock(mu_);
  if (resync_needed_) resyncLocked();
  if (leads) resolveQuiet(now);
  flushDirty();
  if (prune) {
    last_prune_ = now;
    // Forget what can no longer matter: claims and locations older than every window, and
    // resolved conflicts past their retention.
    const Millis horizon = now - std::max(options_.duplicate_window_ms, options_.flap_window_ms);
    const Millis idle = now - std::max<Millis>(3'600'000, options_.flap_window_ms);
    boost::unordered::erase_if(macs_, [&](const auto& kv) { return kv.second.last < idle; });
    boost::unordered::erase_if(ips_, [&](const auto& kv) {
      return std::all_of(kv.second.claims.begin(), kv.second.claims.end(),
                         [&](const IpClaim& c) { return c.last < horizon; });
    });
    for (auto it = conflicts_.begin(); it != conflicts_.end();) {
      const Conflict& c = it->second;
      if (leads && c.status == ConflictStatus::kResolved &&
          c.resolved_at < now - options_.resolved_retention_ms) {
        (void)ledger_.deleteDocument(engineActor(), kConflictKind, std::to_string(c.id), "", "");
        stored_version_.erase(c.id);
        it = conflicts_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void Engine::flushDirty() {
  for (auto id : std::set<std::uint64_t>(dirty_)) {
    if (auto it = conflicts_.find(id); it != conflicts_.end())
      (void)persistLocked(it->second, "", "");
  }
  dirty_.clear();
}

void Engine::resolveQuiet(Millis now) {
  std::vector<std::uint64_t> quiet;
  // Every unresolved conflict, not only those unresolved_ indexes: two replicas that opened one
  // for the same subject at once index the older, and the younger, no longer joined, goes quiet.
  for (const auto& [id, c] : conflicts_) {
    if (c.status == ConflictStatus::kResolved) continue;
    // Pool conditions resolve when the condition ends (checkPools), not by silence.
    if (c.kind == ConflictKind::kPoolOverlap || c.kind == ConflictKind::kPoolUtilization) continue;
    if (c.last_seen < now - options_.quiet_period_ms) quiet.push_back(id);
  }
  for (auto id : quiet) {
    Conflict& c = conflicts_.at(id);
    c.status = ConflictStatus::kResolved;
    c.resolved_by = "engine";
    c.resolved_at = now;
    c.resolution = "no new evidence for " + seconds(options_.quiet_period_ms);
    unindexLocked(c);
    ++stats_.resolved;
    (void)persistLocked(c, "conflict.resolved", "engine");
  }
}

void Engine::checkNeverSeen(Millis now) {
  if (observed_since_.empty()) return;  // nobody watches the wire: silence means nothing
  std::map<std::string, std::string> network_of_pool;
  for (const auto& p : ledger_.listPools(engineActor())) {
    network_of_pool[p.record.name] = p.record.network;
  }
  auto [ids, next] =
      ledger_.bindingsUnchangedSince(now - options_.never_seen_ms, never_seen_cursor_, 50'000);
  never_seen_cursor_ = next;
  std::size_t raised = 0;
  for (auto id : ids) {
    auto seen = binding_seen_.find(id);
    if (seen != binding_seen_.end() && seen->second >= now - options_.never_seen_ms) continue;
    auto b = ledger_.getBinding(engineActor(), id);
    if (!b || b->is_static || b->addresses.empty()) continue;
    if (b->updated_at >= now - options_.never_seen_ms) continue;
    const auto& first = b->addresses.front();
    auto network = network_of_pool.find(first.pool);
    const std::string net =
        network == network_of_pool.end() ? std::string(addr::kDefaultNetwork) : network->second;
    // Silence means something only on a wire watched for the whole period (not, say, a minute
    // after a restart, before the quiet stations have spoken).
    auto watched = observed_since_.find(net);
    if (watched == observed_since_.end() || watched->second > now - options_.never_seen_ms) {
      continue;
    }
    Detection f{ConflictKind::kStaleBinding};
    f.network = net;
    f.subject = "binding:" + std::to_string(id);
    f.binding_id = id;
    f.ip = first.ip.toString();
    if (b->mac) f.mac = b->mac->toString();
    f.pool = first.pool;
    f.counts = false;
    f.message = "binding " + std::to_string(id) + " (" + b->instance + ", " + f.ip +
                ") is active but has not been seen on the wire for " +
                seconds(options_.never_seen_ms);
    raise(std::move(f));
    if (++raised >= 1000) break;  // bounded work per round; the rest next round
  }
}

}  // namespace netledger::engine
