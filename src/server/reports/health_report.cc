#include "server/reports/health_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Millis;

namespace {

const ledger::Actor& reporter() {
  static const ledger::Actor actor = ledger::Actor::system("report");
  return actor;
}

using Series = std::vector<std::int64_t>;

json::array toJson(const Series& s) { return json::array(s.begin(), s.end()); }

// Nearest-rank percentile of `v` (sorted in place); null when empty.
json::value percentile(std::vector<double>& v, double p) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p * v.size())));
  return v[std::min(rank, v.size()) - 1];
}

json::object durations(std::vector<double> seconds) {
  json::object o{{"count", seconds.size()}};
  o["median_s"] = percentile(seconds, 0.5);
  o["p95_s"] = percentile(seconds, 0.95);
  return o;
}

// The kinds whose conflicts say the wire and the ledger disagree about a binding.
bool disagreement(engine::ConflictKind k) {
  using K = engine::ConflictKind;
  return k == K::kBindingMismatch || k == K::kMacDrift || k == K::kStaleBinding ||
         k == K::kDuplicateIp;
}

struct MacTally {
  std::int64_t conflicts = 0, count = 0;
  Millis last_seen = 0;
};

class HealthBuilder {
 public:
  HealthBuilder(const ledger::Ledger& ledger, const engine::Engine& engine, HealthOptions o)
      : ledger_(ledger), engine_(engine), o_(o) {
    n_ = static_cast<std::size_t>((o_.to - o_.from + o_.step - 1) / o_.step);
    n_ = std::max<std::size_t>(n_, 1);
  }

  json::object build() {
    readConflicts();
    scanEvents();
    json::object r;
    r["from"] = ledger::formatTime(o_.from);
    r["to"] = ledger::formatTime(o_.to);
    r["step_s"] = o_.step / 1000;
    r["generated_at"] = ledger::formatTime(engine_.now());
    json::array starts;
    for (std::size_t i = 0; i < n_; ++i)
      starts.emplace_back(ledger::formatTime(o_.from + i * o_.step));
    r["buckets"] = std::move(starts);
    r["conflicts"] = conflictsJson();
    r["sync"] = syncJson();
    r["macs"] = json::object{{"flapping", topMacs(flapping_)}, {"drifting", topMacs(drifting_)}};
    r["pools"] = poolsJson();
    r["probes"] = json::object{{"passed", probes_passed_},
                               {"in_use", probes_in_use_},
                               {"released_while_probing", probes_exhausted_}};
    r["quarantine"] = json::object{{"entered", quarantined_}};
    r["declines"] = json::object{{"conflicts", decline_conflicts_}, {"count", decline_count_}};
    r["events_scanned"] = events_scanned_;
    r["truncated"] = truncated_;
    return r;
  }

 private:
  // The bucket of `t`; `to` itself belongs to the last one (the period is [from, to]).
  std::optional<std::size_t> bucket(Millis t) const {
    if (t < o_.from || t > o_.to) return std::nullopt;
    return std::min(n_ - 1, static_cast<std::size_t>((t - o_.from) / o_.step));
  }
  Series& row(std::map<std::string, Series>& m, const std::string& key) {
    auto& s = m[key];
    if (s.empty()) s.assign(n_, 0);
    return s;
  }
  bool inPeriod(const engine::Conflict& c) const {
    return c.last_seen >= o_.from && c.first_seen <= o_.to;
  }

  void readConflicts() {
    std::string cursor;
    do {
      auto page = engine_.list({}, cursor, 1000);
      if (!page) return;
      for (const auto& c : page->items) tallyConflict(c);
      cursor = page->next_cursor;
    } while (!cursor.empty());
  }

  void tallyConflict(const engine::Conflict& c) {
    const std::string kind(engine::conflictKindName(c.kind));
    if (auto b = bucket(c.first_seen)) ++row(opened_, kind)[*b];
    if (c.status == engine::ConflictStatus::kResolved) {
      if (auto b = bucket(c.resolved_at)) {
        ++row(resolved_, kind)[*b];
        const double s = static_cast<double>(c.resolved_at - c.first_seen) / 1000.0;
        to_resolve_[kind].push_back(s);
        to_resolve_all_.push_back(s);
      }
    } else {
      ++open_now_;
    }
    if (!inPeriod(c)) return;
    if (disagreement(c.kind) && c.binding_id) disagreeing_.insert(*c.binding_id);
    using K = engine::ConflictKind;
    if ((c.kind == K::kMacFlapping || c.kind == K::kMacDrift) && !c.mac.empty()) {
      MacTally& t = (c.kind == K::kMacFlapping ? flapping_ : drifting_)[c.mac];
      ++t.conflicts;
      t.count += static_cast<std::int64_t>(c.count);
      t.last_seen = std::max(t.last_seen, c.last_seen);
    }
    if (c.kind == K::kDhcpDecline) {
      ++decline_conflicts_;
      decline_count_ += static_cast<std::int64_t>(c.count);
    }
  }

  void scanEvents();
  void tallyEvent(const ledger::EventRecord& e);
  json::object conflictsJson();
  json::object syncJson();
  json::array poolsJson();
  static json::array topMacs(const std::map<std::string, MacTally>& tallies);

  const ledger::Ledger& ledger_;
  const engine::Engine& engine_;
  HealthOptions o_;
  std::size_t n_ = 1;
  std::map<std::string, Series> opened_, resolved_, allocated_, released_;
  std::map<std::string, std::vector<double>> to_resolve_;
  std::vector<double> to_resolve_all_;
  std::int64_t open_now_ = 0;
  std::set<std::uint64_t> disagreeing_;
  std::map<std::string, MacTally> flapping_, drifting_;
  std::int64_t decline_conflicts_ = 0, decline_count_ = 0;
  std::int64_t probes_passed_ = 0, probes_in_use_ = 0, probes_exhausted_ = 0, quarantined_ = 0;
  std::size_t events_scanned_ = 0;
  bool truncated_ = false;
};

void HealthBuilder::scanEvents() {
  ledger::EventQuery q;
  q.from = o_.from;
  q.to = o_.to;
  q.limit = 10'000;
  while (true) {
    auto events = ledger_.audit(q);
    if (!events || events->empty()) return;
    for (const auto& e : *events) tallyEvent(e);
    events_scanned_ += events->size();
    if (events->size() < q.limit) return;
    if (events_scanned_ >= o_.max_events) {
      truncated_ = true;
      return;
    }
    q.after_seq = events->back().seq;
  }
}

// Allocations and releases per pool (the utilization trend), probe outcomes and quarantine.
void HealthBuilder::tallyEvent(const ledger::EventRecord& e) {
  const bool allocate = e.op == "binding.allocate";
  const bool ended = e.op == "binding.release" || e.op == "binding.expire";
  if (e.op == "binding.activate") ++probes_passed_;
  if (e.op == "binding.reassign") {
    ++probes_in_use_;
    ++quarantined_;
  }
  if (!allocate && !ended) return;
  const auto b = bucket(e.time);
  json::error_code ec;
  const json::value after = json::parse(e.after, ec);
  if (ec || !b || !after.is_object()) return;
  if (const auto* pools = after.as_object().if_contains("address_pools");
      pools && pools->is_array()) {
    for (const auto& a : pools->as_array()) {
      const json::value* pool = a.is_object() ? a.as_object().if_contains("pool") : nullptr;
      if (pool == nullptr || !pool->is_string()) continue;
      ++row(allocate ? allocated_ : released_, std::string(pool->as_string()))[*b];
      if (ended) ++quarantined_;
    }
  }
  if (e.op == "binding.release" && e.before.find("\"state\":\"reserved\"") != std::string::npos) {
    ++probes_exhausted_;
  }
}

json::object HealthBuilder::conflictsJson() {
  json::object opened, resolved, by_kind;
  std::int64_t opened_total = 0, resolved_total = 0;
  for (const auto& [kind, s] : opened_) {
    opened[kind] = toJson(s);
    for (auto v : s) opened_total += v;
  }
  for (const auto& [kind, s] : resolved_) {
    resolved[kind] = toJson(s);
    for (auto v : s) resolved_total += v;
  }
  for (auto& [kind, v] : to_resolve_) by_kind[kind] = durations(v);
  json::object ttr = durations(to_resolve_all_);
  ttr["by_kind"] = std::move(by_kind);
  return json::object{{"opened", std::move(opened)},  {"resolved", std::move(resolved)},
                      {"opened_total", opened_total}, {"resolved_total", resolved_total},
                      {"open_now", open_now_},        {"time_to_resolve", std::move(ttr)}};
}

// Of the active bindings seen on the wire in the period, those no disagreement was about.
json::object HealthBuilder::syncJson() {
  const auto seen_at = engine_.bindingSeen();
  std::int64_t bindings = 0, observed = 0, agreeing = 0;
  ledger::BindingFilter active;
  active.state = ledger::BindingState::kActive;
  ledger_.forEachBinding(reporter(), active, [&](const ledger::BindingRecord& b) {
    ++bindings;
    auto seen = seen_at.find(b.id);
    if (seen == seen_at.end() || seen->second < o_.from) return;
    ++observed;
    agreeing += !disagreeing_.contains(b.id);
  });
  json::object o{{"bindings", bindings}, {"observed", observed}, {"agreeing", agreeing}};
  o["rate"] = observed > 0 ? json::value(static_cast<double>(agreeing) / observed) : nullptr;
  return o;
}

// Pools, fullest first: utilization now, the trend rebuilt backwards from the count now, and
// the engine's exhaustion forecast.
json::array HealthBuilder::poolsJson() {
  auto pools = ledger_.listPools(reporter());
  std::erase_if(pools, [](const ledger::PoolView& p) { return !p.children.empty(); });
  std::sort(pools.begin(), pools.end(), [](const auto& a, const auto& b) {
    return a.counts.utilization() > b.counts.utilization();
  });
  json::array out;
  for (const auto& p : pools) {
    const std::string& name = p.record.name;
    const double allocatable = static_cast<double>(p.counts.allocatable);
    const Series& alloc = row(allocated_, name);
    const Series& rel = row(released_, name);
    Series used(n_, 0);
    std::int64_t level = static_cast<std::int64_t>(p.counts.used + p.counts.quarantined);
    for (std::size_t i = n_; i-- > 0;) {
      used[i] = std::max<std::int64_t>(level, 0);
      level -= alloc[i] - rel[i];
    }
    json::array utilization;
    for (auto u : used) utilization.emplace_back(allocatable > 0 ? u / allocatable : 0.0);
    json::object o{{"name", name},
                   {"network", p.record.network},
                   {"allocatable", addr::toDecimal(p.counts.allocatable)},
                   {"used", addr::toDecimal(p.counts.used)},
                   {"quarantined", addr::toDecimal(p.counts.quarantined)},
                   {"utilization", p.counts.utilization()},
                   {"allocations", toJson(alloc)},
                   {"releases", toJson(rel)},
                   {"utilization_series", std::move(utilization)}};
    o["allocations_per_hour"] = nullptr;
    o["exhaustion_at"] = nullptr;
    if (auto f = engine_.forecast(name)) {
      o["allocations_per_hour"] = f->allocations_per_hour;
      if (f->exhaustion_in_s) {
        if (auto at = engine::exhaustionAt(engine_.now(), *f->exhaustion_in_s)) {
          o["exhaustion_at"] = ledger::formatTime(*at);
        }
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

json::array HealthBuilder::topMacs(const std::map<std::string, MacTally>& tallies) {
  std::vector<std::pair<std::string, MacTally>> v(tallies.begin(), tallies.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.first < b.first;
  });
  if (v.size() > 10) v.resize(10);
  json::array out;
  for (const auto& [mac, t] : v) {
    out.push_back(json::object{{"mac", mac},
                               {"conflicts", t.conflicts},
                               {"count", t.count},
                               {"last_seen", ledger::formatTime(t.last_seen)}});
  }
  return out;
}

}  // namespace

json::object buildHealthReport(const ledger::Ledger& ledger, const engine::Engine& engine,
                               HealthOptions options) {
  if (options.step <= 0) {
    options.step = options.to - options.from <= 2 * 86'400'000 ? 3'600'000 : 86'400'000;
  }
  return HealthBuilder(ledger, engine, options).build();
}

}  // namespace netledger::server
