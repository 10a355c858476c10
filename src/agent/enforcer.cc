#include "agent/enforcer.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "agent/binding_json.h"
#include "enforce/drop_log.h"
#include "enforce/neighbours.h"
#include "enforce/nftables.h"
#include "wire/frames.h"

namespace netledger::agent {

namespace json = boost::json;

constexpr std::chrono::seconds kRetry{1};

namespace {

// A binding whose pairs may speak: reserved (offered, probing) or active, with a MAC.
std::optional<NodeBinding> nodeBindingOf(const json::object& item) {
  const std::string_view state = jsonString(item, "state");
  if (state != "active" && state != "reserved") return std::nullopt;
  auto id = bindingIdOf(item);
  auto mac = addr::Mac::parse(jsonString(item, "mac"));
  auto addresses = bindingAddressesOf(item);
  if (!id || !mac || !addresses) return std::nullopt;
  NodeBinding b{*id, *mac, std::move(*addresses), {}, {}};
  if (const auto* labels = item.if_contains("labels"); labels && labels->is_object()) {
    b.port = std::string(jsonString(labels->get_object(), "port"));
  }
  if (const auto* pools = item.if_contains("address_pools"); pools && pools->is_array()) {
    for (const json::value& p : pools->get_array()) {
      if (!p.is_object()) continue;
      const std::string pool(jsonString(p.get_object(), "pool"));
      if (!pool.empty()) b.pools.push_back(pool);
    }
  }
  return b;
}

}  // namespace

Result<NodeBindingPage> nodeBindingsFromJson(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  const json::value* items = !ec && v.is_object() ? v.get_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) {
    return Status::invalidArgument("bindings: not a page of bindings (no items array)");
  }
  NodeBindingPage page;
  for (const json::value& item : items->get_array()) {
    if (!item.is_object()) continue;
    if (auto b = nodeBindingOf(item.get_object())) page.bindings.push_back(std::move(*b));
  }
  page.next_cursor = std::string(jsonString(v.get_object(), "next_cursor"));
  return page;
}

namespace {

constexpr int kMaxForwardRun = 1024;  // server/portmaps/port_map.h: kMaxPortRun

std::optional<std::uint16_t> portOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  json::error_code ec;
  const auto n = v->to_number<std::int64_t>(ec);
  if (ec || n < 1 || n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

// One mapping's forwards, port by port; nothing when it forwards nothing (its binding gone) or
// is not a mapping this agent can program.
void appendForwards(const json::object& item, std::vector<enforce::PortForward>& out) {
  auto target = addr::IpAddress::parse(jsonString(item, "address"));
  auto first = portOf(item, "host_port");
  auto last = portOf(item, "host_port_end");
  auto port = portOf(item, "port");
  const std::string protocol(jsonString(item, "protocol"));
  if (!target || !first || !last || !port || *last < *first) return;
  if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") return;
  if (*last - *first >= kMaxForwardRun) return;  // the server never makes a longer run
  if (std::uint32_t{*port} + (*last - *first) > 65535) return;
  std::optional<addr::IpAddress> host;
  if (const std::string_view h = jsonString(item, "host_address"); !h.empty()) {
    auto ip = addr::IpAddress::parse(h);
    if (!ip) return;
    host = *ip;
  }
  for (std::uint32_t p = *first; p <= *last; ++p) {
    out.push_back({protocol, host, static_cast<std::uint16_t>(p), *target,
                   static_cast<std::uint16_t>(*port + (p - *first))});
  }
}

}  // namespace

Result<PoolModes> poolModesFromJson(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  const json::value* items = !ec && v.is_object() ? v.get_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) {
    return Status::invalidArgument("pools: not a list of pools (no items array)");
  }
  PoolModes own;
  std::map<std::string, std::string> parent;
  for (const json::value& item : items->get_array()) {
    if (!item.is_object()) continue;
    const json::object& o = item.get_object();
    const std::string name(jsonString(o, "name"));
    if (name.empty()) continue;
    if (auto mode = enforce::parseEnforceMode(jsonString(o, "enforcement"))) own[name] = *mode;
    if (const std::string_view p = jsonString(o, "parent"); !p.empty()) parent[name] = p;
  }
  // A pool without a mode of its own takes its nearest ancestor's (carved pools inherit).
  PoolModes out = own;
  for (const auto& [name, up] : parent) {
    if (own.contains(name)) continue;
    std::string at = up;
    for (std::size_t depth = 0; depth < parent.size() + 1 && !at.empty(); ++depth) {
      if (auto it = own.find(at); it != own.end()) {
        out[name] = it->second;
        break;
      }
      auto next = parent.find(at);
      at = next == parent.end() ? std::string() : next->second;
    }
  }
  return out;
}

Result<std::vector<enforce::PortForward>> portForwardsFromJson(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  const json::value* items = !ec && v.is_object() ? v.get_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) {
    return Status::invalidArgument("portmaps: not a list of mappings (no items array)");
  }
  std::vector<enforce::PortForward> out;
  for (const json::value& item : items->get_array()) {
    if (item.is_object()) appendForwards(item.get_object(), out);
  }
  return out;
}

// ---- PortLearner ------------------------------------------------------------------------------

void PortLearner::onFrame(const wire::Frame& frame, const std::string& port) {
  if (wanted_ && !wanted_(frame.eth_src, port)) return;
  bool fresh = false;
  {
    std::lock_guard lock(mu_);
    fresh = ports_.try_emplace(frame.eth_src, port).second;  // sticky: the first port keeps it
  }
  if (fresh && learned_) learned_(frame.eth_src);
}

std::optional<std::string> PortLearner::portOf(addr::Mac mac) const {
  std::lock_guard lock(mu_);
  auto it = ports_.find(mac);
  if (it == ports_.end()) return std::nullopt;
  return it->second;
}

void PortLearner::retain(const std::vector<addr::Mac>& keep,
                         const std::vector<std::string>& ports) {
  const std::set<addr::Mac> macs(keep.begin(), keep.end());
  const std::set<std::string> alive(ports.begin(), ports.end());
  std::lock_guard lock(mu_);
  std::erase_if(ports_,
                [&](const auto& kv) { return !macs.count(kv.first) || !alive.count(kv.second); });
}

// ---- the spec ---------------------------------------------------------------------------------

namespace {

// The binding's mode: the strictest its pools set, else the agent's.
enforce::EnforceMode bindingMode(const NodeBinding& b, enforce::EnforceMode fallback,
                                 const PoolModes& pool_modes) {
  std::optional<enforce::EnforceMode> own;
  for (const std::string& p : b.pools) {
    auto it = pool_modes.find(p);
    if (it != pool_modes.end())
      own = std::max(own.value_or(enforce::EnforceMode::kOff), it->second);
  }
  return own.value_or(fallback);
}

}  // namespace

enforce::RulesetSpec specFor(enforce::EnforceMode mode, const std::vector<std::string>& ports,
                             const std::vector<std::string>& trusted,
                             const std::vector<NodeBinding>& bindings, const PortLearner& learned,
                             const PoolModes& pool_modes) {
  enforce::RulesetSpec spec;
  spec.mode = mode;
  const std::set<std::string> trust(trusted.begin(), trusted.end());
  std::set<std::string> guarded;
  for (const std::string& p : ports) {
    if (!trust.count(p) && enforce::validPortName(p)) guarded.insert(p);
  }
  spec.guarded_ports.assign(guarded.begin(), guarded.end());
  for (const NodeBinding& b : bindings) {
    std::string port = !b.port.empty() ? b.port : learned.portOf(b.mac).value_or("");
    if (enforce::validPortName(port) && !trust.count(port)) {
      spec.bindings.push_back({port, b.mac, b.addresses});
      const enforce::EnforceMode m = bindingMode(b, mode, pool_modes);
      auto [it, fresh] = spec.port_modes.try_emplace(port, m);
      if (!fresh) it->second = std::max(it->second, m);
    } else {
      spec.held_macs.push_back(b.mac);  // not behind a guarded port (yet): nothing passes
    }
  }
  return spec;
}

// ---- Enforcer ---------------------------------------------------------------------------------

Enforcer::Enforcer(const AgentConfig& config, FetchBindings fetch, ListPorts ports, LinkLayer& link,
                   metrics::Registry& registry, OpenLoader open_loader)
    : config_(config),
      fetch_(std::move(fetch)),
      ports_(std::move(ports)),
      link_(link),
      open_loader_(std::move(open_loader)),
      mode_(enforce::parseEnforceMode(config.enforce).valueOr(enforce::EnforceMode::kOff)) {
  if (!open_loader_) {
    open_loader_ = []() -> Result<std::unique_ptr<enforce::TableLoader>> {
      auto nft = enforce::Nftables::open();
      if (!nft) return nft.status();
      return std::unique_ptr<enforce::TableLoader>(std::move(*nft));
    };
  }
  registerMetrics(registry);
}

Enforcer::~Enforcer() { stop(); }

void Enforcer::registerMetrics(metrics::Registry& r) {
  auto& applies = r.counter("netledger_agent_enforce_applies_total",
                            "Anti-spoofing table replacements, by result.", {"result"});
  applies_ok_ = &applies.labels({"ok"});
  applies_failed_ = &applies.labels({"failed"});
  fetches_failed_ = &r.counter("netledger_agent_enforce_fetch_failures_total",
                               "Reconciles that could not read the node's bindings.")
                         .get();
  pins_failed_ = &r.counter("netledger_agent_neighbour_pin_failures_total",
                            "Bridges whose pinned neighbour entries could not be synced.")
                      .get();
  apply_seconds_ =
      &r.histogram("netledger_agent_enforce_apply_seconds", "Time to render and load the table.",
                   {}, {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2})
           .get();
  r.gaugeCallback("netledger_agent_enforce_pairs", "Bindings whose pairs the table allows.",
                  [this] { return static_cast<double>(bound_pairs_.load()); });
  r.gaugeCallback("netledger_agent_port_forwards", "Host ports forwarded (port_maps).",
                  [this] { return static_cast<double>(forwards_loaded_.load()); });
  r.gaugeCallback("netledger_agent_enforce_last_apply_ok",
                  "1 when the last table replacement succeeded (else the previous table holds).",
                  [this] { return last_apply_ok_.load() ? 1.0 : 0.0; });
  for (std::size_t i = 0; i < enforce::kDropClasses.size(); ++i) {
    r.counterCallback(
        "netledger_agent_enforce_dropped_total",
        "Frames refused by the anti-spoofing table (monitor mode: counted, not dropped).",
        [this, i] { return static_cast<double>(drops_[i].load()); },
        {{"class", std::string(enforce::dropClassName(enforce::kDropClasses[i]))}});
  }
}

Status Enforcer::start() {
  auto nft = open_loader_();
  if (!nft) return nft.status();
  nft_ = std::move(*nft);
  if (config_.pin_neighbours) {
    auto pins = enforce::NeighbourPins::open();
    if (!pins) return pins.status();
    pins_ = std::move(*pins);
  }
  // A table kept from the last run: its counts so far are not new drops.
  if (auto counts = nft_->dropCounts()) {
    for (std::size_t i = 0; i < enforce::kDropClasses.size(); ++i) {
      auto it = counts->find(std::string(enforce::dropClassName(enforce::kDropClasses[i])));
      table_drops_[i] = it == counts->end() ? 0 : it->second;
    }
  }
  if (on_drop_ && config_.enforce_log_group != 0 && mode_ != enforce::EnforceMode::kOff) {
    auto log = enforce::DropLog::open(static_cast<std::uint16_t>(config_.enforce_log_group));
    if (log) {
      drop_log_ = std::move(*log);
      log_thread_ = std::thread([this] { readLog(); });
    } else {
      spdlog::warn("enforce: dropped spoofs are counted, not reported: {}", log.status().message());
    }
  }
  link_.addWatcher(&learner_);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Enforcer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (log_thread_.joinable()) log_thread_.join();
  if (!thread_.joinable()) return;
  thread_.join();
  link_.removeWatcher(&learner_);
  if (config_.enforce_on_stop == "remove" && nft_) {
    if (Status s = nft_->run(enforce::renderRemoval()); !s.isOk()) {
      spdlog::warn("enforce: removing the table: {}", s.message());
    }
    if (pins_) pin(ports_(), {});
  }
}

// Only a MAC the table waits for, heard on a port that is not trusted, is learned (wantedPort):
// a station spraying random MACs grows nothing and costs no re-render, and a migrating VM's
// broadcasts arriving through the uplink do not pin it there.
bool Enforcer::wantedPort(addr::Mac mac, const std::string& port) {
  if (std::find(config_.trusted_ports.begin(), config_.trusted_ports.end(), port) !=
      config_.trusted_ports.end()) {
    return false;
  }
  std::lock_guard lock(mu_);
  return unplaced_.count(mac) > 0;
}

void Enforcer::onLearned(addr::Mac) {
  {
    std::lock_guard lock(mu_);
    relearned_ = true;
  }
  cv_.notify_all();
}

// Hands each logged drop to on_drop_ until stop().
void Enforcer::readLog() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    pollfd p{drop_log_->fd(), POLLIN, 0};
    if (poll(&p, 1, 200) > 0) drop_log_->read(on_drop_);
  }
}

void Enforcer::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

// Reconciles when poked or every enforce_resync; reads the drop counters every second.
void Enforcer::run() {
  auto next_resync = SteadyClock::now();
  for (;;) {
    bool due = false, relearned = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1),
                   [&] { return stopping_ || poked_ || relearned_; });
      if (stopping_) return;
      due = poked_ || SteadyClock::now() >= next_resync;
      relearned = relearned_;
      poked_ = relearned_ = false;
    }
    if (due) {
      // A failed read is retried within a second, not a full resync later.
      next_resync = SteadyClock::now() + (reconcile() ? config_.enforce_resync : kRetry);
    } else if (relearned || ports_() != last_ports_) {
      apply();  // a MAC found its port, or a port came or went: guarded within a second
    }
    readDrops();
    if (report_ && last_error_ && last_error_ != reported_ &&
        report_(last_error_->empty(), *last_error_)) {
      reported_ = last_error_;
    }
  }
}

void Enforcer::readDrops() {
  if (fetch_forwards_ && !applied_forwards_.empty() && !nft_->hasForwards()) {
    spdlog::warn("enforce: the port forwards' table is gone; loading it again");
    applied_forwards_.clear();
    std::lock_guard lock(mu_);
    relearned_ = true;
  }
  auto counts = nft_->dropCounts();
  if (!counts) {
    // Removed from outside (an nftables reload, an operator): load it again at once.
    if (counts.status().code() == StatusCode::kNotFound && !applied_guard_.empty() &&
        mode_ != enforce::EnforceMode::kOff) {
      spdlog::warn("enforce: the table is gone; loading it again");
      applied_guard_.clear();
      std::lock_guard lock(mu_);
      relearned_ = true;
    }
    return;
  }
  for (std::size_t i = 0; i < enforce::kDropClasses.size(); ++i) {
    auto it = counts->find(std::string(enforce::dropClassName(enforce::kDropClasses[i])));
    // The kernel's counters restart with each table; ours only grow.
    std::uint64_t now = it == counts->end() ? 0 : it->second;
    std::uint64_t seen = table_drops_[i];
    if (now > seen) drops_[i] += now - seen;
    table_drops_[i] = now;
  }
}

// Each source is read on its own: one that fails keeps its last good copy, so port maps the
// server cannot answer do not hold back the anti-spoofing table (and the other way round).
bool Enforcer::reconcile() {
  bool ok = true;
  auto failed = [&](std::string_view what, const Status& s) {
    fetches_failed_->inc();
    spdlog::warn("enforce: reading {}: {}", what, s.message());
    ok = false;
  };
  if (mode_ != enforce::EnforceMode::kOff) {
    if (auto bindings = fetch_()) {
      bindings_ = std::move(*bindings);
      have_bindings_ = true;
    } else {
      failed("this node's bindings", bindings.status());
    }
    if (fetch_pool_modes_) {
      if (auto modes = fetch_pool_modes_()) {
        pool_modes_ = std::move(*modes);
      } else {
        failed("the pools' modes", modes.status());
      }
    }
  }
  if (fetch_forwards_) {
    if (auto forwards = fetch_forwards_()) {
      forwards_ = std::move(*forwards);
      have_forwards_ = true;
    } else {
      failed("this node's port mappings", forwards.status());
    }
  }
  // Nothing is loaded before the first read of what it is made of (no empty table that would
  // silence every port, no forwards removed for want of an answer).
  if ((mode_ == enforce::EnforceMode::kOff || have_bindings_) &&
      (!fetch_forwards_ || have_forwards_)) {
    apply();
  }
  return ok;
}

void Enforcer::pin(const std::map<std::string, std::vector<std::string>>& bridges,
                   const enforce::RulesetSpec& spec) {
  auto sync = [&](const std::string& device, const std::vector<std::string>& ports) {
    std::vector<enforce::PinnedNeighbour> want;
    for (const auto& b : spec.bindings) {
      if (std::find(ports.begin(), ports.end(), b.port) == ports.end()) continue;
      for (const auto& ip : b.addresses) want.push_back({ip, b.mac});
    }
    if (Status s = pins_->sync(device, want); !s.isOk()) {
      pins_failed_->inc();
      spdlog::warn("enforce: pinning neighbours on {}: {}", device, s.message());
    }
  };
  for (const auto& [bridge, ports] : bridges) {
    if (bridge != kPlainInterfaces) {
      sync(bridge, ports);
      continue;
    }
    for (const std::string& device : ports) sync(device, {device});  // a routed interface
  }
}

// The MACs that wait for a port are published before the learner is read, so a MAC heard in
// between is learned (and wakes the thread) instead of being missed until the next resync.
void Enforcer::apply() {
  const auto t0 = SteadyClock::now();
  auto bridges = ports_();
  last_ports_ = bridges;
  // A plain host interface is guarded once a binding of this node names it (its port label: a
  // routed tap or veth); never otherwise, so an uplink listed for snooping stays open.
  std::set<std::string> named;
  for (const NodeBinding& b : bindings_) named.insert(b.port);
  if (auto plain = bridges.find(kPlainInterfaces); plain != bridges.end()) {
    std::erase_if(plain->second, [&](const std::string& i) { return !named.contains(i); });
  }
  std::vector<std::string> ports;
  for (const auto& [bridge, list] : bridges) ports.insert(ports.end(), list.begin(), list.end());
  std::vector<addr::Mac> macs;
  {
    std::lock_guard lock(mu_);
    unplaced_.clear();
    for (const NodeBinding& b : bindings_) {
      macs.push_back(b.mac);
      if (b.port.empty()) unplaced_.insert(b.mac);
    }
  }
  learner_.retain(macs, ports);
  enforce::RulesetSpec spec =
      specFor(mode_, ports, config_.trusted_ports, bindings_, learner_, pool_modes_);
  if (auto plain = bridges.find(kPlainInterfaces); plain != bridges.end()) {
    std::erase_if(spec.guarded_ports, [&](const std::string& p) {
      const bool host =
          std::find(plain->second.begin(), plain->second.end(), p) != plain->second.end();
      if (host) spec.host_ports.push_back(p);  // guarded at its own ingress
      return host;
    });
  }
  if (fetch_forwards_) spec.forwards = forwards_;
  if (drop_log_) spec.log_group = static_cast<std::uint16_t>(config_.enforce_log_group);
  {
    std::lock_guard lock(mu_);
    for (const auto& placed : spec.bindings) unplaced_.erase(placed.mac);
  }
  if (pins_) pin(bridges, spec);
  load(spec, t0);
}

// Replaces only the tables that changed (both in one transaction when both did): a binding
// change does not reload a thousand forwards, nor a new mapping the guard's counters.
void Enforcer::load(const enforce::RulesetSpec& spec, SteadyClock::time_point t0) {
  auto guard = enforce::renderGuard(spec);
  auto forwards = enforce::renderForwards(spec.forwards);
  if (!guard || !forwards) {
    applies_failed_->inc();
    last_apply_ok_ = false;
    last_error_ = (guard ? forwards.status() : guard.status()).message();
    spdlog::error("enforce: no table rendered (the previous one holds): {}", *last_error_);
    return;
  }
  const bool guard_changed = *guard != applied_guard_;
  const bool forwards_changed = *forwards != applied_forwards_;
  if (!guard_changed && !forwards_changed) return;  // the kernel keeps its counters
  if (guard_changed) readDrops();                   // what the old table counted so far
  const std::string script =
      (guard_changed ? *guard : std::string()) + (forwards_changed ? *forwards : std::string());
  if (Status s = nft_->run(script); !s.isOk()) {
    applies_failed_->inc();
    last_apply_ok_ = false;
    last_error_ = s.message();
    spdlog::error("enforce: table not replaced (the previous one holds): {}", s.message());
    return;
  }
  last_error_ = "";
  if (guard_changed) {
    applied_guard_ = std::move(*guard);
    table_drops_.fill(0);
  }
  if (forwards_changed) applied_forwards_ = std::move(*forwards);
  applies_ok_->inc();
  last_apply_ok_ = true;
  bound_pairs_ = spec.bindings.size();
  apply_seconds_->observe(std::chrono::duration<double>(SteadyClock::now() - t0).count());
  forwards_loaded_ = spec.forwards ? spec.forwards->size() : 0;
  spdlog::info(
      "enforce: {} table: {} guarded ports, {} bindings placed, {} waiting for a port, {} "
      "forwarded host ports",
      config_.enforce, spec.guarded_ports.size(), spec.bindings.size(), spec.held_macs.size(),
      forwards_loaded_.load());
}

}  // namespace netledger::agent
