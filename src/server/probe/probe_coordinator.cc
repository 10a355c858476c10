#include "server/probe/probe_coordinator.h"

#include <algorithm>

#include "engine/engine.h"
#include "engine/observation.h"

namespace netledger::server {

using ledger::Actor;
using ledger::Applied;
using ledger::BindingRecord;
using ledger::BindingState;

namespace {

std::string describe(const std::vector<InUseAddress>& in_use) {
  std::string out;
  for (const auto& a : in_use) {
    if (!out.empty()) out += ", ";
    out += a.ip.toString() + " (" + a.mac.toString() + ")";
  }
  return out;
}

std::string addressList(const BindingRecord& b) {
  std::string out;
  for (const auto& a : b.addresses) out += (out.empty() ? "" : ", ") + a.ip.toString();
  return out.empty() ? "none" : out;
}

}  // namespace

ProbeCoordinator::ProbeCoordinator(ProbeLedger& ledger, engine::Engine* engine, Clock& clock,
                                   ProbeOptions options)
    : ledger_(ledger),
      engine_(engine),
      clock_(clock),
      options_(options),
      next_purge_(clock.now() + options.purge_interval) {}

ProbeCoordinator::~ProbeCoordinator() { stop(); }

void ProbeCoordinator::start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  deadlines_ = std::thread([this] { deadlineLoop(); });
}

void ProbeCoordinator::stop() {
  std::vector<std::pair<std::uint64_t, Waiter>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, p] : progress_) {
      if (!p.waiter) continue;
      left.emplace_back(id, std::move(*p.waiter));
      p.waiter.reset();
    }
  }
  cv_.notify_all();
  if (deadlines_.joinable()) deadlines_.join();
  for (auto& [id, w] : left) w.callback(timedOut(id, w, ProbeOutcomeKind::kShutdown));
}

std::size_t ProbeCoordinator::tracked() const {
  std::lock_guard lock(mu_);
  return progress_.size();
}

std::size_t ProbeCoordinator::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(progress_.begin(), progress_.end(),
                                                [](const auto& e) { return e.second.waiter; }));
}

Result<Applied<BindingRecord>> ProbeCoordinator::allocate(const Actor& actor,
                                                          const ledger::AllocateRequest& request,
                                                          std::chrono::milliseconds timeout,
                                                          ProbeWaiter waiter) {
  // Held across the allocation so that no report is applied before the binding is registered.
  std::unique_lock lock(mu_);
  auto applied = ledger_.allocate(actor, request);
  if (!applied || !applied->created) return applied;
  const std::uint64_t id = applied->value.id;
  Progress& progress = progress_[id];
  progress.retry = !request.address && !request.is_static;
  const auto wait = std::max(std::chrono::milliseconds(0), std::min(timeout, options_.max_wait));
  if (stopping_ || wait.count() == 0) {
    ProbeOutcome outcome;
    outcome.kind = stopping_ ? ProbeOutcomeKind::kShutdown : ProbeOutcomeKind::kTimedOut;
    outcome.binding_id = id;
    outcome.binding = applied->value;
    outcome.ticket = applied->ticket;
    lock.unlock();
    waiter(std::move(outcome));
    return applied;
  }
  progress.waiter = Waiter{actor, clock_.now() + wait, applied->ticket, std::move(waiter)};
  lock.unlock();
  cv_.notify_all();  // the deadline thread may be sleeping past this deadline
  return applied;
}

Result<Applied<BindingRecord>> ProbeCoordinator::report(const Actor& actor, std::uint64_t id,
                                                        const ProbeReport& report) {
  NL_RETURN_IF_ERROR(ledger::requireRole(actor, ledger::Role::kOperator, "report probes"));
  std::vector<Due> due;
  auto result = [&]() -> Result<Applied<BindingRecord>> {
    std::lock_guard lock(mu_);
    auto b = ledger_.getBinding(actor, id);
    if (!b) return b.status();
    if (b->state != BindingState::kReserved) {
      if (auto it = progress_.find(id); it != progress_.end() && !it->second.waiter) {
        progress_.erase(it);
      }
      return Status::conflict("state: binding " + std::to_string(id) + " is " +
                              std::string(ledger::bindingStateName(b->state)) +
                              ", not awaiting a probe");
    }
    const bool held =
        std::any_of(b->addresses.begin(), b->addresses.end(),
                    [&](const ledger::BoundAddress& a) { return a.ip == report.address; });
    if (!held) {
      return Status::invalidArgument("address: binding " + std::to_string(id) + " does not hold " +
                                     report.address.toString() + " (it holds " + addressList(*b) +
                                     ")");
    }
    if (report.in_use && !report.mac) {
      return Status::invalidArgument("mac: required when result is in_use");
    }
    // Progress is created on first sight too: after a restart the agent's reports still count.
    auto [it, created] = progress_.try_emplace(id);
    if (created) it->second.retry = !b->is_static;
    return report.in_use ? reportInUseLocked(actor, *b, it->second, report, due)
                         : reportFreeLocked(actor, *b, it->second, report.address, due);
  }();
  for (auto& [callback, outcome] : due) callback(std::move(outcome));
  return result;
}

Result<Applied<BindingRecord>> ProbeCoordinator::reportFreeLocked(const Actor& actor,
                                                                  const BindingRecord& b,
                                                                  Progress& progress,
                                                                  const addr::IpAddress& ip,
                                                                  std::vector<Due>& due) {
  progress.free.insert(ip);
  const bool all_free =
      std::all_of(b.addresses.begin(), b.addresses.end(),
                  [&](const ledger::BoundAddress& a) { return progress.free.contains(a.ip); });
  if (!all_free) return Applied<BindingRecord>{b, false, 0};
  auto activated = ledger_.activate(actor, b.id);
  if (!activated) return activated.status();
  if (progress.waiter) {
    ProbeOutcome outcome;
    outcome.kind = ProbeOutcomeKind::kActivated;
    outcome.binding_id = b.id;
    outcome.binding = activated->value;
    outcome.in_use = progress.in_use;
    outcome.ticket = activated->ticket;
    due.emplace_back(std::move(progress.waiter->callback), std::move(outcome));
  }
  progress_.erase(b.id);  // `progress` is gone from here on
  return activated;
}

Result<Applied<BindingRecord>> ProbeCoordinator::reportInUseLocked(const Actor& actor,
                                                                   const BindingRecord& b,
                                                                   Progress& progress,
                                                                   const ProbeReport& report,
                                                                   std::vector<Due>& due) {
  progress.free.erase(report.address);
  progress.in_use.push_back({report.address, *report.mac});
  std::string why;
  if (!progress.retry) {
    why = b.is_static ? "the binding is static, so no other address is tried"
                      : "the address was requested explicitly, so no other is tried";
  } else if (static_cast<int>(progress.in_use.size()) >= options_.attempts) {
    why = std::to_string(progress.in_use.size()) +
          " addresses tried, all in use: " + describe(progress.in_use);
  } else {
    auto moved = ledger_.reassignAddress(actor, b.id, report.address);
    if (moved) {
      observe(b, report);
      return moved;
    }
    // Static, unpooled or exhausted: there is no other address to offer. Anything else
    // (unavailable, forbidden) changed nothing and is the reporter's answer.
    const StatusCode code = moved.status().code();
    if (code != StatusCode::kConflict && code != StatusCode::kPoolExhausted) {
      progress.in_use.pop_back();
      return moved.status();
    }
    why = "no other address: " + moved.status().message();
  }
  auto released = ledger_.release(actor, b.id);
  if (!released) {
    progress.in_use.pop_back();
    return released.status();
  }
  observe(b, report);
  if (progress.waiter) {
    ProbeOutcome outcome;
    outcome.kind = ProbeOutcomeKind::kExhausted;
    outcome.binding_id = b.id;
    outcome.binding = released->value;
    outcome.error = Status::conflict("address: " + report.address.toString() +
                                     " is in use (answered by " + report.mac->toString() + "); " +
                                     why + "; binding " + std::to_string(b.id) + " was released");
    outcome.in_use = progress.in_use;
    outcome.ticket = released->ticket;
    due.emplace_back(std::move(progress.waiter->callback), std::move(outcome));
  }
  progress_.erase(b.id);  // `progress` is gone from here on
  return released;
}

void ProbeCoordinator::observe(const BindingRecord& b, const ProbeReport& report) {
  if (engine_ == nullptr || !report.mac) return;
  engine::Observation o;
  o.ip = report.address;
  o.mac = *report.mac;
  for (const auto& a : b.addresses) {
    if (a.ip != report.address || a.pool.empty()) continue;
    if (auto pool = ledger_.getPool(Actor::system("probe"), a.pool))
      o.network = pool->record.network;
  }
  o.host = b.host;
  o.interface = report.interface;
  o.source = engine::Source::kAgent;
  o.kind = report.address.isV4() ? engine::FrameKind::kArpReply
                                 : engine::FrameKind::kNeighborAdvertisement;
  o.time = engine_->now();
  // A full queue loses the conflict, not the probe's outcome: the reassignment stands.
  (void)engine_->submit({std::move(o)});
}

ProbeOutcome ProbeCoordinator::timedOut(std::uint64_t id, const Waiter& waiter,
                                        ProbeOutcomeKind kind) {
  ProbeOutcome outcome;
  outcome.kind = kind;
  outcome.binding_id = id;
  outcome.ticket = waiter.ticket;
  if (auto b = ledger_.getBinding(waiter.actor, id)) outcome.binding = std::move(*b);
  return outcome;
}

void ProbeCoordinator::deadlineLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // A real wait for a span of the Clock's time: with a FakeClock, expireDue() is what runs
    // the due work; this thread then finds nothing left.
    const auto wait = nextDueLocked() - clock_.now();
    if (wait > Duration::zero()) cv_.wait_for(lock, wait);
    if (stopping_) break;
    expireDueLocked(lock);
  }
}

void ProbeCoordinator::expireDue() {
  std::unique_lock lock(mu_);
  expireDueLocked(lock);
}

TimePoint ProbeCoordinator::nextDueLocked() const {
  TimePoint next = next_purge_;
  for (const auto& [id, p] : progress_) {
    if (p.waiter) next = std::min(next, p.waiter->deadline);
  }
  return next;
}

void ProbeCoordinator::expireDueLocked(std::unique_lock<std::mutex>& lock) {
  const TimePoint now = clock_.now();
  std::vector<std::pair<std::uint64_t, Waiter>> expired;
  for (auto& [id, p] : progress_) {
    if (!p.waiter || p.waiter->deadline > now) continue;
    expired.emplace_back(id, std::move(*p.waiter));
    p.waiter.reset();
  }
  if (now >= next_purge_) {
    purgeLocked();
    next_purge_ = now + options_.purge_interval;
  }
  if (expired.empty()) return;
  lock.unlock();
  for (auto& [id, w] : expired) w.callback(timedOut(id, w, ProbeOutcomeKind::kTimedOut));
  lock.lock();
}

void ProbeCoordinator::purgeLocked() {
  const Actor system = Actor::system("probe");
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (it->second.waiter) {
      ++it;
      continue;
    }
    auto binding = ledger_.getBinding(system, it->first);
    if (!binding || binding->state != BindingState::kReserved) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace netledger::server
