#include "server/check/wire_check.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Millis;

namespace {

const ledger::Actor& checker() {
  static const ledger::Actor actor = ledger::Actor::system("check");
  return actor;
}

json::value timeOrNull(Millis t) {
  return t > 0 ? json::value(ledger::formatTime(t)) : json::value(nullptr);
}

json::array addressesJson(const ledger::BindingRecord& b) {
  json::array out;
  for (const auto& a : b.addresses) out.emplace_back(a.ip.toString());
  return out;
}

// What the report needs of the pools, and the network each binding's addresses live in.
struct PoolIndex {
  std::vector<ledger::PoolView> pools;
  std::map<std::string, std::string> network_of;  // pool name -> network

  explicit PoolIndex(const ledger::Ledger& ledger) : pools(ledger.listPools(checker())) {
    for (const auto& p : pools) network_of[p.record.name] = p.record.network;
  }
  std::string networkOf(const ledger::BindingRecord& b) const {
    for (const auto& a : b.addresses) {
      if (auto it = network_of.find(a.pool); it != network_of.end()) return it->second;
    }
    return "default";
  }
};

// The newest sighting with a host of each MAC (where the MAC is now).
std::map<std::uint64_t, const engine::Engine::Sighting*> whereMacs(
    const engine::Engine::WireView& wire) {
  std::map<std::uint64_t, const engine::Engine::Sighting*> at;
  for (const auto& s : wire.sightings) {
    if (s.host.empty()) continue;
    auto& best = at[s.mac.value()];
    if (best == nullptr || s.last > best->last) best = &s;
  }
  return at;
}

// Each list holds at most this many findings (`truncated` names the full ones): a report of a
// rogue /16 stays readable, and the lookups behind it bounded.
constexpr std::size_t kSectionCap = 10'000;

constexpr const char* kSections[] = {
    "leaks",          "unbound_addresses",  "lingering_leases", "misplaced_macs",
    "unswept_leases", "overdue_quarantine", "overlapping_pools"};

class Checker {
 public:
  Checker(const ledger::Ledger& ledger, const engine::Engine::WireView& wire, const CheckOptions& o)
      : ledger_(ledger), wire_(wire), o_(o), pools_(ledger), macs_(whereMacs(wire)) {
    // Watched all along: heard from before `since`, with no long gap since, and lately.
    for (const auto& h : wire.hosts) {
      if (h.since > o.since || h.last < o.now - engine::Engine::kWatchGapMs) continue;
      watched_hosts_.insert(h.network + '\n' + h.host);
      watched_networks_.insert(h.network);
    }
  }

  CheckReport run() {
    for (auto* name : kSections) section(name);
    ledger::BindingFilter active;
    active.state = ledger::BindingState::kActive;
    ledger_.forEachBinding(checker(), active,
                           [this](const ledger::BindingRecord& b) { visitBinding(b); });
    checkSightings();
    checkSelf();
    checkOverlaps();
    auto& j = report_.json;
    j["checked_at"] = ledger::formatTime(o_.now);
    j["since"] = ledger::formatTime(o_.since);
    json::object watched;
    for (const auto& [network, t] : wire_.watched_since) watched[network] = ledger::formatTime(t);
    j["wire"] = json::object{{"sightings", wire_.sightings.size()},
                             {"watched_since", std::move(watched)},
                             {"retention_s", wire_.retention_ms / 1000}};
    json::array unwatched, truncated;
    for (const auto& [network, host] : unwatched_) {
      unwatched.emplace_back(json::object{{"network", network}, {"host", host}});
    }
    j["unwatched"] = std::move(unwatched);
    for (auto* name : kSections) {
      report_.findings += j[name].as_array().size();
      if (j[name].as_array().size() >= kSectionCap) truncated.emplace_back(name);
    }
    j["truncated"] = std::move(truncated);
    const auto& alloc = j["allocator"].as_object();
    report_.findings +=
        alloc.at("count_mismatches").as_array().size() + alloc.at("unmarked").as_array().size();
    j["findings"] = report_.findings;
    return std::move(report_);
  }

 private:
  json::array& section(const char* name) {
    auto& v = report_.json[name];
    if (!v.is_array()) v = json::array();
    return v.as_array();
  }
  bool full(const char* name) { return section(name).size() >= kSectionCap; }

  // Whether the binding's host (or, without one, some host of its network) was watched all
  // along since `since`: only then does its silence mean anything.
  bool watched(const ledger::BindingRecord& b, const std::string& network) {
    if (b.host.empty() ? watched_networks_.contains(network)
                       : watched_hosts_.contains(network + '\n' + b.host)) {
      return true;
    }
    unwatched_.insert({network, b.host});
    return false;
  }

  void visitBinding(const ledger::BindingRecord& b) {
    if (b.addresses.empty()) return;
    checkLeak(b);
    if (b.mac && !b.host.empty()) checkPlace(b);
  }

  // Not seen since `since`, unchanged since, on a host watched all that time.
  void checkLeak(const ledger::BindingRecord& b) {
    if (b.updated_at >= o_.since || full("leaks")) return;
    auto seen = wire_.binding_seen.find(b.id);
    const Millis last = seen == wire_.binding_seen.end() ? 0 : seen->second;
    if (last >= o_.since) return;
    const std::string network = pools_.networkOf(b);
    if (!watched(b, network)) return;
    section("leaks").push_back(
        json::object{{"binding_id", std::to_string(b.id)},
                     {"instance", b.instance},
                     {"addresses", addressesJson(b)},
                     {"mac", b.mac ? json::value(b.mac->toString()) : nullptr},
                     {"host", b.host},
                     {"network", network},
                     {"static", b.is_static},
                     {"last_seen", timeOrNull(last)},
                     {"updated_at", ledger::formatTime(b.updated_at)}});
    if (!b.is_static) {
      report_.fixes.push_back({"release", b.id, b.version, "",
                               "not seen on the wire since " + ledger::formatTime(o_.since)});
    }
  }

  // The MAC last seen on another host, after the binding last changed.
  void checkPlace(const ledger::BindingRecord& b) {
    auto it = macs_.find(b.mac->value());
    if (it == macs_.end()) return;
    const auto& s = *it->second;
    if (s.host == b.host || s.last <= b.updated_at || full("misplaced_macs")) return;
    section("misplaced_macs")
        .push_back(json::object{{"binding_id", std::to_string(b.id)},
                                {"instance", b.instance},
                                {"mac", b.mac->toString()},
                                {"host", b.host},
                                {"seen_host", s.host},
                                {"seen_interface", s.interface},
                                {"last_seen", ledger::formatTime(s.last)}});
    report_.fixes.push_back(
        {"migrate", b.id, b.version, s.host, b.mac->toString() + " is on " + s.host});
  }

  struct Ended {
    ledger::BindingRecord binding;
    std::string op;
    Millis time = 0;
  };
  // The binding whose release or expiry was the address's last event, when it had `mac` and
  // ended before `seen`: a lease that ended while its station kept the address.
  std::optional<Ended> endedHolder(const addr::IpAddress& ip, addr::Mac mac, Millis seen) const;
  void checkSightings();
  void judgeClaim(const engine::Engine::Sighting& s, const ledger::WireFacts& f);
  void checkSelf();
  void checkOverlaps();

  const ledger::Ledger& ledger_;
  const engine::Engine::WireView& wire_;
  const CheckOptions& o_;
  PoolIndex pools_;
  std::map<std::uint64_t, const engine::Engine::Sighting*> macs_;
  std::set<std::string> watched_hosts_, watched_networks_;
  std::set<std::pair<std::string, std::string>> unwatched_;  // (network, host)
  CheckReport report_;
};

std::optional<Checker::Ended> Checker::endedHolder(const addr::IpAddress& ip, addr::Mac mac,
                                                   Millis seen) const {
  ledger::EventQuery q;
  q.key = "ip:" + ip.toString();
  q.before_seq = UINT64_MAX;  // newest first
  q.limit = 1;
  auto events = ledger_.audit(q);
  if (!events || events->empty()) return std::nullopt;
  const ledger::EventRecord& e = events->front();
  if ((e.op != "binding.release" && e.op != "binding.expire") || e.time > seen) return std::nullopt;
  json::error_code ec;
  auto after = json::parse(e.after, ec);
  if (ec) return std::nullopt;
  auto b = ledger::bindingFromJson(after);
  if (!b || b->mac != mac) return std::nullopt;
  return Ended{std::move(*b), e.op, e.time};
}

// Claims seen since `since` of managed addresses nobody holds: a station the ledger does not
// know, or one whose lease ended and that kept the address (lingering).
void Checker::checkSightings() {
  std::vector<const engine::Engine::Sighting*> claims;
  for (const auto& s : wire_.sightings) {
    if (s.ip && s.last >= o_.since) claims.push_back(&s);
  }
  // In chunks: each lookupWire holds the ledger's lock, which writers wait for.
  constexpr std::size_t kChunk = 4096;
  for (std::size_t first = 0; first < claims.size(); first += kChunk) {
    if (full("unbound_addresses") && full("lingering_leases")) return;
    std::vector<ledger::WireQuery> queries;
    const std::size_t last = std::min(claims.size(), first + kChunk);
    for (std::size_t i = first; i < last; ++i) {
      queries.push_back({claims[i]->network, *claims[i]->ip, claims[i]->mac});
    }
    auto facts = ledger_.lookupWire(queries);
    for (std::size_t i = first; i < last; ++i) judgeClaim(*claims[i], facts[i - first]);
  }
}

void Checker::judgeClaim(const engine::Engine::Sighting& s, const ledger::WireFacts& f) {
  if (f.ip_holder || !f.network_managed || f.pool.empty() || f.gateway || f.external) return;
  json::object o{{"network", s.network},
                 {"ip", s.ip->toString()},
                 {"mac", s.mac.toString()},
                 {"pool", f.pool},
                 {"host", s.host},
                 {"interface", s.interface},
                 {"last_seen", ledger::formatTime(s.last)}};
  if (auto ended = endedHolder(*s.ip, s.mac, s.last)) {
    if (full("lingering_leases")) return;
    o["binding_id"] = std::to_string(ended->binding.id);
    o["instance"] = ended->binding.instance;
    o["ended"] = ended->op;
    o["ended_at"] = ledger::formatTime(ended->time);
    section("lingering_leases").push_back(std::move(o));
  } else if (!full("unbound_addresses")) {
    section("unbound_addresses").push_back(std::move(o));
  }
}

void Checker::checkSelf() {
  const ledger::SelfCheck self = ledger_.selfCheck(o_.grace);
  auto& unswept = section("unswept_leases");
  for (auto id : self.unswept_leases) {
    auto b = ledger_.getBinding(checker(), id);
    if (!b) continue;
    unswept.push_back(json::object{{"binding_id", std::to_string(id)},
                                   {"instance", b->instance},
                                   {"expires_at", timeOrNull(b->expires_at)}});
  }
  auto& overdue = section("overdue_quarantine");
  for (const auto& q : self.overdue_quarantine) {
    overdue.push_back(json::object{
        {"pool", q.pool}, {"ip", q.ip.toString()}, {"until", ledger::formatTime(q.until)}});
  }
  if (!self.overdue_quarantine.empty()) {
    report_.fixes.push_back(
        {"sweep_quarantine", 0, 0, "",
         std::to_string(self.overdue_quarantine.size()) + " addresses held past their quarantine"});
  }
  json::array counts, unmarked;
  for (const auto& c : self.count_mismatches) {
    counts.push_back(json::object{{"pool", c.pool},
                                  {"allocator_used", addr::toDecimal(c.allocator_used)},
                                  {"bound", c.bound}});
  }
  for (const auto& u : self.unmarked) {
    unmarked.push_back(json::object{{"binding_id", std::to_string(u.binding)},
                                    {"instance", u.instance},
                                    {"pool", u.pool},
                                    {"ip", u.ip.toString()},
                                    {"allocator_state", u.state}});
  }
  report_.json["allocator"] =
      json::object{{"count_mismatches", std::move(counts)}, {"unmarked", std::move(unmarked)}};
}

// Two control planes handing out one range: pools of different clusters that overlap in one
// network (the ledger refuses overlapping managed pools, so one of them is external).
void Checker::checkOverlaps() {
  auto& out = section("overlapping_pools");
  const auto& pools = pools_.pools;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    for (std::size_t k = i + 1; k < pools.size(); ++k) {
      const auto& a = pools[i].record;
      const auto& b = pools[k].record;
      if (a.network != b.network || a.cluster == b.cluster) continue;
      for (const auto& pa : a.cidrs) {
        for (const auto& pb : b.cidrs) {
          if (!pa.overlaps(pb)) continue;
          out.push_back(json::object{{"network", a.network},
                                     {"pools", json::array{a.name, b.name}},
                                     {"clusters", json::array{a.cluster, b.cluster}},
                                     {"cidrs", json::array{pa.toString(), pb.toString()}}});
        }
      }
    }
  }
}

}  // namespace

CheckReport runCheck(const ledger::Ledger& ledger, const engine::Engine::WireView& wire,
                     const CheckOptions& options) {
  return Checker(ledger, wire, options).run();
}

json::array applyFixes(ledger::Ledger& ledger, const CheckReport& report, bool dry_run,
                       std::uint64_t* last_ticket) {
  json::array out;
  for (const auto& f : report.fixes) {
    json::object o{{"action", f.action}, {"reason", f.reason}, {"applied", false}};
    if (f.binding_id != 0) o["binding_id"] = std::to_string(f.binding_id);
    if (!f.host.empty()) o["host"] = f.host;
    Status status = Status::ok();
    auto note = [&](const auto& applied) {
      status = applied.status();
      if (applied) *last_ticket = std::max(*last_ticket, applied->ticket);
    };
    if (!dry_run && f.binding_id != 0) {
      // Changed since the check looked (renewed, moved): what it saw no longer holds.
      auto now = ledger.getBinding(checker(), f.binding_id);
      if (!now || now->version != f.version) {
        status = Status::conflict("binding " + std::to_string(f.binding_id) +
                                  " changed since the check; run it again");
      }
    }
    if (!status.isOk()) {
      // Not applied: reported below.
    } else if (!dry_run && f.action == "release") {
      note(ledger.release(checker(), f.binding_id));
    } else if (!dry_run && f.action == "migrate") {
      note(ledger.migrate(checker(), f.binding_id, f.host, std::nullopt));
    } else if (!dry_run && f.action == "sweep_quarantine") {
      o["freed"] = ledger.sweepQuarantine();
    }
    o["applied"] = !dry_run && status.isOk();
    if (!status.isOk()) o["error"] = status.message();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace netledger::server
