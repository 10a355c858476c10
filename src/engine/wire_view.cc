// The engine's wire view: the newest sighting of each claim, kept for days rather than the
// detection windows' seconds, so `netledger check` can ask "was this binding on the wire since
// Tuesday?" and "who else answers for addresses of our pools?".
#include <algorithm>

#include "engine/engine.h"

namespace netledger::engine {

std::size_t Engine::SightingKeyHash::operator()(const SightingKey& k) const noexcept {
  std::size_t h = std::hash<std::string>()(k.network) ^ (k.mac * 0x9e3779b97f4a7c15ULL);
  if (k.ip) {
    const auto bits = k.ip->bits();
    h ^= std::hash<std::uint64_t>()(static_cast<std::uint64_t>(bits)) + (h << 6) + (h >> 2);
    h ^= std::hash<std::uint64_t>()(static_cast<std::uint64_t>(bits >> 64)) + (h << 6) + (h >> 2);
  }
  return h;
}

Millis Engine::seenAt(const Observation& o) const {
  return std::min<Millis>(o.time, batch_now_ms_ + kFutureSkewMs);
}

void Engine::recordSighting(const Observation& o) {
  const Millis t = seenAt(o);
  HostWatch& w = hosts_watched_[o.network + '\n' + o.host];
  if (t > w.last) {
    if (t - w.last > kWatchGapMs) w.since = t;  // the first sighting, or one after a gap
    w.last = t;
  }
  // A probe asks about an address without claiming it: not a sighting of a holder.
  SightingKey key{o.network, claimsAddress(o) ? o.ip : std::nullopt, o.mac.value()};
  auto it = sightings_.find(key);
  if (it == sightings_.end()) {
    if (sightings_.size() >= options_.wire_view_max) {
      ++wire_view_dropped_;
      return;
    }
    it = sightings_.emplace(std::move(key), SightingValue{}).first;
  }
  SightingValue& v = it->second;
  if (t < v.last) return;
  v.last = t;
  if (!o.host.empty() && v.host != o.host) v.host = o.host;
  if (!o.interface.empty() && v.interface != o.interface) v.interface = o.interface;
}

void Engine::pruneWireView(Millis now) {
  std::lock_guard wire(wire_mu_);
  const Millis horizon = now - options_.wire_view_retention_ms;
  boost::unordered::erase_if(sightings_, [&](const auto& kv) { return kv.second.last < horizon; });
  boost::unordered::erase_if(hosts_watched_,
                             [&](const auto& kv) { return kv.second.last < horizon; });
  // never_seen_ms decides stale_binding; the check may look back as far as the view reaches.
  const Millis unseen = now - std::max(options_.never_seen_ms, options_.wire_view_retention_ms);
  boost::unordered::erase_if(binding_seen_, [&](const auto& kv) { return kv.second < unseen; });
}

Engine::WireView Engine::wireView() const {
  WireView view;
  std::lock_guard wire(wire_mu_);
  view.sightings.reserve(sightings_.size());
  for (const auto& [k, v] : sightings_) {
    view.sightings.push_back({k.network, k.ip, addr::Mac(k.mac), v.host, v.interface, v.last});
  }
  view.binding_seen.insert(binding_seen_.begin(), binding_seen_.end());
  view.watched_since = observed_since_;
  for (const auto& [key, w] : hosts_watched_) {
    const auto cut = key.find('\n');
    view.hosts.push_back({key.substr(0, cut), key.substr(cut + 1), w.since, w.last});
  }
  view.retention_ms = options_.wire_view_retention_ms;
  return view;
}

std::map<std::uint64_t, Millis> Engine::bindingSeen() const {
  std::lock_guard wire(wire_mu_);
  return {binding_seen_.begin(), binding_seen_.end()};
}

}  // namespace netledger::engine
