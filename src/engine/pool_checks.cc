// The engine's periodic pool checks: utilization samples and the exhaustion forecast, pools
// over their threshold (pool_utilization), pools of different control planes that overlap
// (pool_overlap), and the resolution of both once the condition ends.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

#include "engine/engine.h"
#include "ledger/codec.h"

namespace netledger::engine {
namespace json = boost::json;

namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100);
  return buf;
}

// Where two pools' CIDRs meet ("a and b"); "" when they do not.
std::string overlapOf(const ledger::PoolRecord& a, const ledger::PoolRecord& b) {
  std::string where;
  for (const auto& x : a.cidrs) {
    for (const auto& y : b.cidrs) {
      if (x.overlaps(y)) where = x.toString() + " and " + y.toString();
    }
  }
  return where;
}

}  // namespace

std::optional<Millis> exhaustionAt(Millis now, double eta_s) {
  // 1e11 s is 3,000 years: beyond that the date means nothing and would overflow int64 ms.
  if (!std::isfinite(eta_s) || eta_s < 0 || eta_s > 1e11) return std::nullopt;
  return now + static_cast<Millis>(eta_s * 1000);
}

double Engine::growthPerSecond(const std::deque<PoolSample>& samples, double used, Millis now) {
  if (samples.empty()) return 0;
  const double span_s = static_cast<double>(now - samples.front().at) / 1000.0;
  return span_s > 0 ? (used - samples.front().used) / span_s : 0;
}

std::optional<Engine::PoolForecast> Engine::forecast(const std::string& pool) const {
  std::lock_guard lock(samples_mu_);
  auto it = pool_samples_.find(pool);
  if (it == pool_samples_.end() || it->second.size() < 2) return std::nullopt;
  const auto& samples = it->second;
  const auto& last = samples.back();
  PoolForecast f;
  const double rate = growthPerSecond(samples, last.used, last.at);
  f.allocations_per_hour = rate * 3600;
  if (rate > 0) f.exhaustion_in_s = last.free / rate;
  return f;
}

void Engine::checkPools(Millis now) {
  auto pools = ledger_.listPools(engineActor());
  std::set<ConflictKey> active;
  auto raiseAll = [&](std::vector<Detection> detections) {
    for (auto& f : detections) {
      active.insert({f.kind, f.network, f.subject});
      raise(std::move(f));
    }
  };
  raiseAll(utilizationDetections(now, pools));
  raiseAll(overlapDetections(pools));
  // Conditions that ended resolve at once.
  resolveEndedPoolConditions(now, active);
}

std::vector<Engine::Detection> Engine::utilizationDetections(
    Millis now, const std::vector<ledger::PoolView>& pools) {
  std::lock_guard samples_lock(samples_mu_);
  // Samples of deleted pools go with them.
  std::erase_if(pool_samples_, [&](const auto& kv) {
    return std::none_of(pools.begin(), pools.end(),
                        [&](const ledger::PoolView& p) { return p.record.name == kv.first; });
  });
  std::vector<Detection> detections;
  for (const auto& p : pools) {
    if (!p.children.empty()) continue;  // parents are containers: their children are measured
    const auto& counts = p.counts;
    if (counts.allocatable == 0) continue;
    const double used = static_cast<double>(counts.used + counts.quarantined);
    const double free = static_cast<double>(counts.free);
    const double utilization = counts.utilization();
    auto& samples = pool_samples_[p.record.name];
    samples.push_back({now, used, free});
    while (samples.size() > 2 && samples.front().at < now - options_.forecast_window_ms) {
      samples.pop_front();
    }
    if (utilization < p.record.threshold) continue;
    const double rate = growthPerSecond(samples, used, now);
    Detection f{ConflictKind::kPoolUtilization};
    f.network = p.record.network;
    f.pool = p.record.name;
    f.subject = "pool:" + p.record.name;
    f.counts = false;
    f.details["utilization"] = utilization;
    f.details["threshold"] = p.record.threshold;
    f.details["used"] = used;
    f.details["free"] = free;
    f.details["allocations_per_hour"] = rate * 3600;
    std::string forecast = "no exhaustion forecast (allocation rate not rising)";
    if (rate > 0) {
      const double eta_s = free / rate;
      f.details["exhaustion_in_s"] = eta_s;
      if (auto at = exhaustionAt(now, eta_s)) {
        f.details["exhaustion_at"] = ledger::formatTime(*at);
        forecast = "exhausted in about " + std::to_string(static_cast<long long>(eta_s / 60)) +
                   " min at the current rate";
      } else {
        forecast = "no exhaustion in sight at the current rate";
      }
    }
    f.severity = utilization >= 0.95 || (rate > 0 && free / rate < 3600) ? Severity::kCritical
                                                                         : Severity::kWarning;
    f.message = "pool \"" + p.record.name + "\" is " + percent(utilization) + " used (threshold " +
                percent(p.record.threshold) + "); " + forecast;
    detections.push_back(std::move(f));
  }
  return detections;
}

std::vector<Engine::Detection> Engine::overlapDetections(
    const std::vector<ledger::PoolView>& pools) {
  std::vector<Detection> detections;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    for (std::size_t j = i + 1; j < pools.size(); ++j) {
      const auto& a = pools[i].record;
      const auto& b = pools[j].record;
      if (a.network != b.network || a.parent == b.name || b.parent == a.name) continue;
      // Only another control plane's range makes an overlap: an external pool over a managed
      // one, or external pools of different clusters. Managed pools meet only by carving (the
      // ledger refuses other overlaps), at any depth; one cluster's own imports are its business.
      if (!a.external && !b.external) continue;
      if (a.external && b.external && a.cluster == b.cluster) continue;
      const std::string where = overlapOf(a, b);
      if (where.empty()) continue;
      Detection f{ConflictKind::kPoolOverlap};
      f.network = a.network;
      f.subject = "pools:" + std::min(a.name, b.name) + "," + std::max(a.name, b.name);
      f.pool = a.name;
      f.counts = false;
      f.details["pools"] = json::array{json::string(a.name), json::string(b.name)};
      f.details["clusters"] = json::array{json::string(a.cluster), json::string(b.cluster)};
      f.message = "pools \"" + a.name + "\" (cluster \"" + a.cluster + "\") and \"" + b.name +
                  "\" (cluster \"" + b.cluster + "\") overlap: " + where;
      detections.push_back(std::move(f));
    }
  }
  return detections;
}

void Engine::resolveEndedPoolConditions(Millis now, const std::set<ConflictKey>& active) {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> ended;
  for (const auto& [key, id] : unresolved_) {
    auto kind = std::get<0>(key);
    if ((kind == ConflictKind::kPoolUtilization || kind == ConflictKind::kPoolOverlap) &&
        !active.contains(key)) {
      ended.push_back(id);
    }
  }
  for (auto id : ended) {
    Conflict& c = conflicts_.at(id);
    c.status = ConflictStatus::kResolved;
    c.resolved_by = "engine";
    c.resolved_at = now;
    c.resolution = c.kind == ConflictKind::kPoolUtilization ? "utilization below the threshold"
                                                            : "the pools no longer overlap";
    unindexLocked(c);
    ++stats_.resolved;
    (void)persistLocked(c, "conflict.resolved", "engine");
  }
}

}  // namespace netledger::engine
