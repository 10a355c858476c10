// Ledger::selfCheck and sweepQuarantine: the allocators against the bindings (views.h
// SelfCheck), the internal half of `netledger check`.
#include <chrono>

#include "ledger/ledger.h"
#include "ledger/ledger_state.h"

namespace netledger::ledger {

namespace {

Millis millisOf(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Each held address must be in use in its pool's block; returns how many are.
std::size_t checkHeld(const PoolState& pool, const std::vector<HeldAddress>& held, SelfCheck& out) {
  std::size_t marked = 0;
  for (const HeldAddress& h : held) {
    const alloc::IpAllocator* block = pool.blockFor(h.ip);
    const alloc::AddressState state = block ? block->stateOf(h.ip) : alloc::AddressState::kFree;
    if (block && state == alloc::AddressState::kInUse) {
      ++marked;
      continue;
    }
    out.unmarked.push_back({h.binding, h.instance, pool.record.name, h.ip,
                            block ? std::string(alloc::addressStateName(state)) : "no_block"});
  }
  return marked;
}

}  // namespace

SelfCheck Ledger::selfCheck(Millis grace) const {
  SelfCheck out;
  std::lock_guard lock(state_->mu);
  const Millis now = millisOf(state_->clock.now());
  const auto held = state_->bindings.heldByPool();
  static const std::vector<HeldAddress> kNone;
  for (const auto& [name, pool] : state_->pools.all()) {
    auto it = held.find(name);
    const auto& mine = it == held.end() ? kNone : it->second;
    checkHeld(pool, mine, out);
    addr::uint128 used = 0;
    for (const auto& block : pool.blocks) {
      used += block->counts().used;
      for (const auto& [ip, until] : block->quarantined()) {
        if (millisOf(until) < now - grace)
          out.overdue_quarantine.push_back({name, ip, millisOf(until)});
      }
    }
    if (used != addr::uint128(mine.size()))
      out.count_mismatches.push_back({name, used, mine.size()});
  }
  out.unswept_leases = state_->bindings.dueForExpiry(now - grace);
  return out;
}

std::size_t Ledger::sweepQuarantine() {
  std::lock_guard lock(state_->mu);
  const TimePoint now = state_->clock.now();
  std::size_t freed = 0;
  for (const auto& [name, pool] : state_->pools.all()) {
    for (const auto& block : pool.blocks) freed += block->sweepQuarantine(now);
  }
  return freed;
}

}  // namespace netledger::ledger
