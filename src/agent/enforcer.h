#pragma once
// The node's anti-spoofing table kept in step with the ledger (see enforce/ruleset.h for what
// the table lets through).
//
//   event stream (binding.*, address.move) --poke()--> Enforcer thread
//       GET /v1/bindings?host=<node> (every page) -> which port each binding is behind
//       -> renderRuleset -> one nftables transaction, only when the table would change
//       -> with pin_neighbours: permanent ARP/NDP entries on the bridge for the same pairs
//
// A full reconcile also runs every `enforce_resync` and after the stream reconnects, so a
// missed event costs at most that long. Which port a binding is behind: its `port` label when
// the allocator knew it (a tap or veth name), else the bridge port its MAC was first heard on
// (PortLearner: sticky, like a switch's port security; forgotten when the binding leaves the
// node or the port disappears). A script the kernel refuses changes nothing: the last good table
// stays, and the failure is counted and logged.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "agent/config.h"
#include "agent/link_layer.h"
#include "common/status.h"
#include "enforce/ruleset.h"
#include "metrics/registry.h"

namespace netledger::enforce {
class TableLoader;
class NeighbourPins;
class DropLog;
struct LoggedDrop;
}  // namespace netledger::enforce

namespace netledger::agent {

// A binding of this node as the table needs it.
struct NodeBinding {
  std::uint64_t id = 0;
  addr::Mac mac;
  std::vector<addr::IpAddress> addresses;
  std::string port;                // the `port` label ("" when not given)
  std::vector<std::string> pools;  // the pools of its addresses (address_pools)
};

// One page of GET /v1/bindings: the reserved and active bindings with a MAC (others have no
// pair to allow), and the next cursor ("" on the last page). invalid_argument for a body that is
// not such a page.
struct NodeBindingPage {
  std::vector<NodeBinding> bindings;
  std::string next_cursor;
};
Result<NodeBindingPage> nodeBindingsFromJson(std::string_view body);

// Pools' own enforcement modes (GET /v1/pools: `enforcement` not null), by pool name; pools that
// leave it to the agent are absent. invalid_argument for a body that is not a pool list.
using PoolModes = std::map<std::string, enforce::EnforceMode>;
Result<PoolModes> poolModesFromJson(std::string_view body);

// GET /v1/portmaps?node=... as forwards, one per host port (a run is expanded); mappings that
// forward nothing (no `address`: the binding is gone) or are malformed are left out.
// invalid_argument for a body that is not such a list.
Result<std::vector<enforce::PortForward>> portForwardsFromJson(std::string_view body);

// Remembers the bridge port each MAC was first heard on (ARP/NDP frames from the snooper).
class PortLearner final : public FrameWatcher {
 public:
  // `learned` is told of each MAC heard for the first time (on the snooper's thread).
  // Only frames `wanted` accepts are learned (all without one); `learned` is told of each MAC
  // learned for the first time. Both run on the snooper's thread.
  using Wanted = std::function<bool(addr::Mac, const std::string& port)>;
  explicit PortLearner(Wanted wanted = {}, std::function<void(addr::Mac)> learned = {})
      : wanted_(std::move(wanted)), learned_(std::move(learned)) {}
  void onFrame(const wire::Frame& frame, const std::string& port) override;
  std::optional<std::string> portOf(addr::Mac mac) const;
  // Keeps only the MACs in `keep` whose port is still in `ports` (the rest are re-learned).
  void retain(const std::vector<addr::Mac>& keep, const std::vector<std::string>& ports);

 private:
  Wanted wanted_;
  std::function<void(addr::Mac)> learned_;
  mutable std::mutex mu_;
  std::map<addr::Mac, std::string> ports_;
};

// The table a set of bindings asks for: every port guarded unless trusted; each binding behind
// its label's port, else its learned port, else held (its MAC is known to the table, so nothing
// it sends passes, not even as a new station, until its port is known). A port's mode is the
// strictest of its bindings' (each its pools' strictest own mode, else `mode`); a port with no
// binding is in `mode`.
enforce::RulesetSpec specFor(enforce::EnforceMode mode, const std::vector<std::string>& ports,
                             const std::vector<std::string>& trusted,
                             const std::vector<NodeBinding>& bindings, const PortLearner& learned,
                             const PoolModes& pool_modes = {});

class Enforcer {
 public:
  static constexpr const char* kPlainInterfaces = "";
  // All of this node's bindings (every page), or why not.
  using FetchBindings = std::function<Result<std::vector<NodeBinding>>()>;
  // The configured bridges and their ports now (re-read each reconcile); the configured plain
  // interfaces (no bridge) under kPlainInterfaces.
  using ListPorts = std::function<std::map<std::string, std::vector<std::string>>()>;
  // Opens what loads the table (enforce::Nftables unless a test gives a fake).
  using OpenLoader = std::function<Result<std::unique_ptr<enforce::TableLoader>>()>;

  Enforcer(const AgentConfig& config, FetchBindings fetch, ListPorts ports, LinkLayer& link,
           metrics::Registry& registry, OpenLoader open_loader = {});
  ~Enforcer();  // stop()

  // The pools' own modes, or why not (re-read with the bindings).
  using FetchPoolModes = std::function<Result<PoolModes>()>;
  // Lets pools override the agent's mode per port: call before start().
  void followPoolModes(FetchPoolModes fetch) { fetch_pool_modes_ = std::move(fetch); }

  // Each frame the guard refuses (logged to enforce_log_group), on the enforcer's log thread:
  // the agent makes it an observation. Call before start().
  using OnDrop = std::function<void(const enforce::LoggedDrop&)>;
  void onDrop(OnDrop each) { on_drop_ = std::move(each); }

  // Tells the server the tables' state when it changes (PUT /v1/hosts/{node}/enforcement): ok,
  // or the error of the script the kernel refused. Runs on the enforcer thread; false: not
  // delivered, tried again within a second. Call before start().
  using ReportState = std::function<bool(bool ok, const std::string& error)>;
  void reportTo(ReportState report) { report_ = std::move(report); }

  // This node's host-port forwards (port_maps), or why not.
  using FetchForwards = std::function<Result<std::vector<enforce::PortForward>>()>;
  // Also keeps `table inet netledger` (the forwards) in step: call before start(). With the
  // enforce mode "off" the Enforcer then keeps only that table.
  void forwardPorts(FetchForwards fetch) { fetch_forwards_ = std::move(fetch); }

  // unavailable when libnftables cannot be used (then the agent does not start).
  Status start();
  // Stops the thread; removes the table when `enforce_on_stop` is "remove". Idempotent.
  void stop();
  // Something on the ledger changed: reconcile now.
  void poke();

 private:
  void run();
  using SteadyClock = std::chrono::steady_clock;
  bool reconcile();  // fetch the node's bindings, then apply(); false when the fetch failed
  void apply();      // render bindings_ with the ports known now
  void load(const enforce::RulesetSpec& spec, SteadyClock::time_point t0);  // if it changed
  void readDrops();
  bool wantedPort(addr::Mac mac, const std::string& port);
  void onLearned(addr::Mac mac);
  // Pins the placed pairs on the bridge they are behind (pin_neighbours).
  void pin(const std::map<std::string, std::vector<std::string>>& bridges,
           const enforce::RulesetSpec& spec);
  void registerMetrics(metrics::Registry& registry);

  const AgentConfig& config_;
  FetchBindings fetch_;
  ListPorts ports_;
  LinkLayer& link_;
  PortLearner learner_{
      [this](addr::Mac mac, const std::string& port) { return wantedPort(mac, port); },
      [this](addr::Mac mac) { onLearned(mac); }};
  OpenLoader open_loader_;
  const enforce::EnforceMode mode_;  // config_.enforce, checked by finishConfig
  std::unique_ptr<enforce::TableLoader> nft_;
  std::unique_ptr<enforce::NeighbourPins> pins_;  // with pin_neighbours
  std::string applied_guard_;          // the bridge table's script in force ("" before the first)
  std::string applied_forwards_;       // the inet table's
  std::vector<NodeBinding> bindings_;  // as last fetched (the enforcer thread's)
  FetchForwards fetch_forwards_;       // set: port_maps
  bool have_bindings_ = false;         // read once at least
  bool have_forwards_ = false;
  ReportState report_;
  OnDrop on_drop_;
  std::unique_ptr<enforce::DropLog> drop_log_;  // with on_drop_ and a log group
  std::thread log_thread_;
  void readLog();
  std::optional<std::string> last_error_;  // of the last load ("" ok); unset before the first
  std::optional<std::string> reported_;    // what the server was last told
  FetchPoolModes fetch_pool_modes_;
  PoolModes pool_modes_;                                        // as last fetched
  std::vector<enforce::PortForward> forwards_;                  // as last fetched
  std::map<std::string, std::vector<std::string>> last_ports_;  // the bridges' ports, as applied

  std::mutex mu_;  // the fields below
  std::condition_variable cv_;
  bool poked_ = true;       // fetch and apply
  bool relearned_ = false;  // a MAC of unplaced_ was heard: apply again, no fetch
  bool stopping_ = false;
  std::set<addr::Mac> unplaced_;  // bindings' MACs with no port yet
  std::thread thread_;

  metrics::Counter* applies_ok_ = nullptr;
  metrics::Counter* applies_failed_ = nullptr;
  metrics::Counter* fetches_failed_ = nullptr;
  metrics::Counter* pins_failed_ = nullptr;
  metrics::Histogram* apply_seconds_ = nullptr;
  std::atomic<std::uint64_t> bound_pairs_{0};
  std::atomic<std::uint64_t> forwards_loaded_{0};
  std::atomic<bool> last_apply_ok_{true};
  // Drops by DropClass: ours only grow; the table's restart at 0 with each replacement.
  std::array<std::atomic<std::uint64_t>, enforce::kDropClasses.size()> drops_{};
  std::array<std::uint64_t, enforce::kDropClasses.size()> table_drops_{};
};

}  // namespace netledger::agent
