#include "alloc/mac_allocator.h"

namespace netledger::alloc {

using addr::Mac;

Status MacRegistry::claim(Mac mac, TimePoint now, bool allow_quarantined) {
  if (mac.isZero() || mac.isMulticast()) {
    return Status::invalidArgument("mac: " + mac.toString() + " is " +
                                   (mac.isZero()        ? "all-zero"
                                    : mac.isBroadcast() ? "broadcast"
                                                        : "multicast") +
                                   "; a station needs a unicast MAC");
  }
  sweepQuarantine(now);
  const std::uint64_t key = mac.value();
  if (isInUse(mac)) return Status::conflict("mac " + mac.toString() + " is in use");
  if (auto q = quarantine_.find(key); q != quarantine_.end()) {
    if (!allow_quarantined) {
      return Status::conflict("mac " + mac.toString() + " is quarantined after release");
    }
    quarantine_.erase(q);  // its heap entry is now stale
  }
  in_use_.insert(key);
  return Status::ok();
}

void MacRegistry::settled(Mac mac) {
  in_use_.erase(mac.value());
  quarantine_.erase(mac.value());  // its heap entry, if any, is now stale
}

Status MacRegistry::release(Mac mac, TimePoint now, Duration hold) {
  const bool claimed_here = in_use_.erase(mac.value()) != 0;
  if (!claimed_here && !(holders_ && holders_->holds(mac))) {
    return Status::notFound("mac " + mac.toString() + " is not in use");
  }
  if (hold <= Duration::zero()) return Status::ok();
  const Duration::rep until = (now + hold).time_since_epoch().count();
  quarantine_[mac.value()] = until;
  expiries_.emplace(until, mac.value());
  return Status::ok();
}

void MacRegistry::forget(Mac mac) {
  in_use_.erase(mac.value());
  quarantine_.erase(mac.value());
}

std::size_t MacRegistry::sweepQuarantine(TimePoint now) {
  auto now_ticks = now.time_since_epoch().count();
  std::size_t freed = 0;
  while (!expiries_.empty() && expiries_.top().first <= now_ticks) {
    auto [until, mac] = expiries_.top();
    expiries_.pop();
    auto it = quarantine_.find(mac);
    if (it == quarantine_.end() || it->second != until) continue;  // stale
    quarantine_.erase(it);
    ++freed;
  }
  return freed;
}

MacState MacRegistry::stateOf(Mac mac) const {
  if (isInUse(mac)) return MacState::kInUse;
  return quarantine_.contains(mac.value()) ? MacState::kQuarantined : MacState::kFree;
}

std::size_t MacRegistry::memoryBytes() const {
  return sizeof(*this) + in_use_.bucket_count() * (sizeof(std::uint64_t) + 1) +
         quarantine_.bucket_count() * (sizeof(std::uint64_t) + sizeof(Duration::rep) + 1) +
         expiries_.size() * sizeof(Expiry);
}

Result<MacStrategy> parseMacStrategy(std::string_view text) {
  if (text == "random") return MacStrategy::kRandom;
  if (text == "sequential") return MacStrategy::kSequential;
  if (text == "hash") return MacStrategy::kHash;
  return Status::invalidArgument("strategy: \"" + std::string(text.substr(0, 32)) +
                                 "\" is not one of random, sequential, hash");
}

std::string_view macStrategyName(MacStrategy s) {
  switch (s) {
    case MacStrategy::kRandom:
      return "random";
    case MacStrategy::kSequential:
      return "sequential";
    case MacStrategy::kHash:
      return "hash";
  }
  return "random";
}

addr::MacPrefix defaultMacPrefix() {
  // 02:6e:6c ("nl"): locally administered, unicast, 24 bits -> 16 M MACs.
  return addr::MacPrefix::make(Mac(0x026e6c000000ull), 24).value();
}

MacAllocator::MacAllocator(MacPoolLayout layout, MacRegistry& registry, RandomSource random)
    : layout_(layout), registry_(registry), random_(std::move(random)) {
  if (!random_) random_ = [this] { return secure_random_.next64(); };
}

std::uint64_t MacAllocator::size() const {
  return layout_.prefix.size() - (layout_.prefix.base().isZero() ? 1 : 0);
}

Result<Mac> MacAllocator::probeFrom(std::uint64_t start, std::uint64_t limit, TimePoint now,
                                    bool advance_cursor) {
  const std::uint64_t mask = layout_.prefix.size() - 1;
  for (std::uint64_t i = 0; i < limit; ++i) {
    std::uint64_t suffix = (start + i) & mask;
    Mac m = layout_.prefix.at(suffix);
    if (!usable(m)) continue;
    NL_RETURN_IF_ERROR(registry_.claim(m, now));
    if (advance_cursor) cursor_ = (suffix + 1) & mask;
    return m;
  }
  return Status::poolExhausted("no free MAC in " + layout_.prefix.toString());
}

Result<Mac> MacAllocator::allocate(TimePoint now, std::string_view instance,
                                   std::string_view interface) {
  registry_.sweepQuarantine(now);
  const std::uint64_t space = layout_.prefix.size();
  const std::uint64_t mask = space - 1;
  switch (layout_.strategy) {
    case MacStrategy::kSequential:
      return probeFrom(cursor_, space, now, true);
    case MacStrategy::kHash: {
      // Length-prefixed so ("a\nb", "c") and ("a", "b\nc") cannot share a key.
      std::string key = std::to_string(instance.size());
      key += ':';
      key += instance;
      key += interface;
      auto digest = sha256(key);
      std::uint64_t h = 0;
      for (int i = 0; i < 8; ++i) h = (h << 8) | digest[i];
      return probeFrom(h & mask, space, now, false);
    }
    case MacStrategy::kRandom: {
      // Random draws stay O(1) while the prefix is not nearly full; 64 misses in a row means
      // more than ~98 % is taken (with probability 1 - 1e-6 at 80 %), so fall back to a scan.
      for (int attempt = 0; attempt < 64; ++attempt) {
        Mac m = layout_.prefix.at(random_() & mask);
        if (!usable(m)) continue;
        NL_RETURN_IF_ERROR(registry_.claim(m, now));
        return m;
      }
      // A full scan is affordable for small prefixes; a 2^24+ space this full cannot be held in
      // memory anyway, so declaring it exhausted is the honest answer.
      constexpr std::uint64_t kMaxScan = std::uint64_t{1} << 24;
      if (space > kMaxScan) {
        return Status::poolExhausted("MAC pool " + layout_.prefix.toString() +
                                     " is nearly full: 64 random draws all collided");
      }
      return probeFrom(random_() & mask, space, now, false);
    }
  }
  return Status::internal("unknown MAC strategy");
}

}  // namespace netledger::alloc
