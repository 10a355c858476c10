#pragma once
// The consistency engine: observations (what the wire says) against the ledger (what was
// decided) and the configuration (pools) -> conflicts, remediation, and the events that tell
// people. One worker thread does all detection, so the detection state needs no locks and the
// API threads only ever queue observations (submit never waits for the ledger).
//
// Conflicts are ledger documents (kind "conflict"): opening, acknowledging, resolving and
// remediating one is an audited ledger event ("conflict.opened", ...), which is how the event
// stream and webhooks learn of it. Counters and evidence of an open conflict are written back
// at most once per tick, without an event.
//
// Thread safety: submit(), the conflict queries and the ack/resolve/policy commands are safe
// from any thread. process() and tick() are the worker's; tests call them directly with a
// FakeClock instead of start().

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "engine/conflict.h"
#include "engine/ledger_port.h"
#include "engine/observation.h"

namespace netledger::engine {

struct EngineOptions {
  Millis duplicate_window_ms = 10'000;    // two MACs claiming an IP within this: duplicate_ip
  int flap_changes = 3;                   // more than this many host/port changes ...
  Millis flap_window_ms = 10'000;         // ... within this: mac_flapping
  Millis quiet_period_ms = 300'000;       // no new evidence for this long: resolved
  Millis never_seen_ms = 86'400'000;      // active, never seen since its last change: stale
  int drift_confirmations = 2;            // sightings from the new host before record_migration
  std::size_t evidence_max = 20;          // observations kept per conflict
  std::size_t queue_max = 200'000;        // queued observations before submit refuses
  Millis tick_ms = 1'000;                 // periodic checks and write-back
  Millis forecast_window_ms = 3'600'000;  // allocation rate for the exhaustion forecast
  Millis resolved_retention_ms = 30LL * 86'400'000;  // resolved conflicts are then forgotten
  std::map<ConflictKind, Policy> policies;           // unset kinds: alert
  // Store::writerSlot(): replicas number the conflicts they open apart, as they do bindings
  // (ledger::nextForWriter); 0 takes every number.
  std::uint32_t writer_slot = 0;
  // The wire view `netledger check` reads (wireView): sightings kept this long, at most this
  // many (a new claim past the cap is counted in wire_view_dropped, not kept).
  Millis wire_view_retention_ms = 7LL * 86'400'000;
  std::size_t wire_view_max = 1'000'000;
};

// When a pool growing for `eta_s` more seconds runs out, as unix milliseconds; nullopt when that
// is not a representable time (a huge IPv6 pool grows for longer than any calendar: 1e20 s).
std::optional<Millis> exhaustionAt(Millis now, double eta_s);

struct ConflictFilter {
  std::optional<ConflictKind> kind;
  std::optional<ConflictStatus> status;
  std::optional<Severity> min_severity;
  std::optional<std::string> network, subject, ip, mac;
  std::optional<std::uint64_t> binding_id;
};

struct EngineStats {
  std::uint64_t observations = 0;  // processed
  std::uint64_t dropped = 0;       // refused by submit (queue full)
  std::uint64_t batches = 0;
  std::size_t queued = 0;
  std::uint64_t opened = 0, resolved = 0, remediations = 0, remediation_failures = 0;
  std::uint64_t wire_view_dropped = 0;              // sightings not kept: the wire view was full
  std::map<std::string, std::size_t> open_by_kind;  // not yet resolved, by kind name
};

class Engine {
 public:
  // `ledger` (a LedgerAdapter over the Ledger, or any LedgerPort) and `clock` must outlive the
  // engine.
  Engine(LedgerPort& ledger, Clock& clock, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads conflicts and policies from the ledger's documents (policies stored there win over
  // the options'). Call once, after the ledger is open.
  Status open();
  // Starts / stops the worker (idempotent; stop processes nothing further).
  void start();
  // Among several replicas only the elected one runs the scans of the shared ledger (pool
  // utilization, never-seen); `leading` says whether this one is. Set before start(); unset:
  // always.
  void setLeading(std::function<bool()> leading) { leading_ = std::move(leading); }
  void stop();

  // Conflicts and policies another replica changed, or all of them after the ledger reloaded
  // (Ledger::setDocumentListener): queued, and taken in by the worker (or the next
  // processQueued) before anything else, so this replica's API and detection follow the one
  // ledger. Only takes a lock of its own: safe under the ledger's lock.
  void documentsChanged(ledger::Ledger::DocumentChanges changes);
  static constexpr const char* kConflictKind = "conflict";
  static constexpr const char* kPolicyKind = "policy";

  // Queues observations for the worker. kUnavailable, nothing queued, when the queue would
  // exceed queue_max (the client should retry later).
  Status submit(std::vector<Observation> batch);
  // Blocks until everything queued before the call has been processed (tests, benchmarks).
  void drain();

  // Processes everything queued on the caller's thread (tests and fuzzing without start()).
  void processQueued();

  // A conflict found outside the observation rules (the DHCP server: an address a client
  // declined as in use; a client over its decline budget): opened, or added to the unresolved
  // one of the same kind, network and subject, like the rules' own. Thread-safe.
  struct Report {
    ConflictKind kind = ConflictKind::kDuplicateIp;
    std::string network, subject, ip, mac, pool, message;
    std::vector<std::string> macs;
    boost::json::object details;
    Observation evidence;
  };
  std::uint64_t report(const Report& r);

  // The worker's steps, public for tests with a fake clock.
  void process(const std::vector<Observation>& batch);
  void tick();

  // ---- conflicts (thread-safe) ----
  // Newest first; `cursor` is the last id of the previous page ("" for the first).
  Result<ledger::Page<Conflict>> list(const ConflictFilter& filter, const std::string& cursor,
                                      std::size_t limit) const;
  Result<Conflict> get(std::uint64_t id) const;
  // open -> acknowledged (an acknowledged or resolved conflict stays as it is: idempotent).
  Result<ledger::Applied<Conflict>> acknowledge(const ledger::Actor& actor, std::uint64_t id,
                                                const std::string& note);
  // open|acknowledged -> resolved; new evidence afterwards opens a new conflict.
  Result<ledger::Applied<Conflict>> resolve(const ledger::Actor& actor, std::uint64_t id,
                                            const std::string& note);

  // ---- policies ----
  std::map<ConflictKind, Policy> policies() const;
  // Sets the given kinds' policies (durably, audited as "policy.update"); checkPolicy errors
  // name the kind. Returns the ticket to wait on.
  Result<std::uint64_t> setPolicies(const ledger::Actor& actor,
                                    const std::map<ConflictKind, Policy>& changes);

  // A pool's allocation trend over the forecast window, from the samples the engine takes every
  // tick: nullopt until it has two. Thread-safe.
  struct PoolForecast {
    double allocations_per_hour = 0;        // net growth of used + quarantined
    std::optional<double> exhaustion_in_s;  // set while growing
  };
  std::optional<PoolForecast> forecast(const std::string& pool) const;

  // What this engine's wire showed lately (observations posted to this replica), for the
  // ledger-versus-wire check: the newest sighting of each (network, address, MAC) — or of a
  // MAC seen without an address — and when each binding was last seen. Thread-safe; a copy.
  struct Sighting {
    std::string network;
    std::optional<addr::IpAddress> ip;
    addr::Mac mac;
    std::string host, interface;
    Millis last = 0;
  };
  // A host whose observations reach this engine: watched without a gap longer than kWatchGapMs
  // since `since`, last heard from at `last`. A binding on a host not watched all along cannot
  // be called silent (its agent may simply have been down).
  struct WatchedHost {
    std::string network, host;
    Millis since = 0, last = 0;
  };
  static constexpr Millis kWatchGapMs = 15 * 60'000;
  // Observation times later than now by more than this are taken as now (a client's clock).
  static constexpr Millis kFutureSkewMs = 60'000;
  struct WireView {
    std::vector<Sighting> sightings;
    std::map<std::uint64_t, Millis> binding_seen;
    std::map<std::string, Millis> watched_since;  // network -> its first observation here
    std::vector<WatchedHost> hosts;
    Millis retention_ms = 0;  // how far back the view reaches
  };
  WireView wireView() const;
  // When each binding was last seen on the wire (the view's binding_seen alone).
  std::map<std::uint64_t, Millis> bindingSeen() const;

  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }
  // The engine clock's now, in unix milliseconds (fills observations without a time).
  Millis now() const { return nowMs(); }

 private:
  // Detection state, touched by the worker only.
  struct IpClaim {
    addr::Mac mac;
    Millis last = 0;
  };
  struct IpTrack {
    std::vector<IpClaim> claims;  // distinct MACs, newest sighting each
  };
  struct MacTrack {
    std::string location;  // host|interface last seen at
    std::deque<Millis> changes;
    std::string drift_host;  // a host other than the binding's, seen claiming it
    int drift_count = 0;
    Millis last = 0;  // last sighting, for pruning
  };
  struct IpKey {
    std::string network;
    addr::IpAddress ip;
    friend bool operator==(const IpKey&, const IpKey&) = default;
  };
  struct IpKeyHash {
    std::size_t operator()(const IpKey& k) const noexcept;
  };
  struct PoolSample {
    Millis at;
    double used;  // used + quarantined
    double free;
  };
  // Growth of used + quarantined per second from the oldest sample to `used` at `now`.
  static double growthPerSecond(const std::deque<PoolSample>& samples, double used, Millis now);
  // What a detection rule asks for: raise() opens a conflict or adds to the open one.
  struct Detection {
    explicit Detection(ConflictKind k) : kind(k) {}
    ConflictKind kind;
    std::string network, subject, ip, mac, pool, message;
    std::optional<std::uint64_t> binding_id;
    std::vector<std::string> macs;
    boost::json::object details;
    const Observation* evidence = nullptr;
    bool counts = true;  // false: a periodic re-check, not new evidence
    std::optional<Severity> severity;
  };

  // An unresolved conflict's identity: (kind, network, subject).
  using ConflictKey = std::tuple<ConflictKind, std::string, std::string>;

  // The actor the engine's own writes are recorded as ("engine").
  static const ledger::Actor& engineActor();

  // ---- the rules, per observation (engine.cc) ----
  void inspect(const Observation& o, const ledger::WireFacts& facts);
  void checkFlapping(const Observation& o, MacTrack& track);
  void checkIp(const Observation& o, const ledger::WireFacts& facts);
  // Two stations claiming one address (or a probe for an address another station claims).
  void checkDuplicateIp(const Observation& o, const ledger::WireFacts& facts, IpTrack& track);
  // An address claimed by a station other than its binding's, or after the lease ended.
  void checkIpHolder(const Observation& o, const ledger::WireFacts& facts);
  // An address nobody holds, in a managed network.
  void checkUnknownStation(const Observation& o, const ledger::WireFacts& facts);
  void checkMac(const Observation& o, const ledger::WireFacts& facts, MacTrack& track);
  // ---- the wire view (wire_view.cc); wire_mu_ held ----
  void recordSighting(const Observation& o);
  void pruneWireView(Millis now);

  // ---- the periodic checks (periodic_checks.cc) ----
  void checkPools(Millis now);
  // Samples every leaf pool; a utilization detection for each over its threshold.
  std::vector<Detection> utilizationDetections(Millis now,
                                               const std::vector<ledger::PoolView>& pools);
  // Pools of one network whose ranges meet, from different control planes.
  static std::vector<Detection> overlapDetections(const std::vector<ledger::PoolView>& pools);
  // Resolves the pool conditions (utilization, overlap) not in `active`.
  void resolveEndedPoolConditions(Millis now, const std::set<ConflictKey>& active);
  void checkNeverSeen(Millis now);
  void resolveQuiet(Millis now);
  void flushDirty();

  // ---- conflicts ----
  // Returns the conflict's id. Requires mu_ not held.
  std::uint64_t raise(Detection detection);
  // The rest require mu_ held.
  // The unresolved conflict under `key`, or the one its alias leads to; nullptr when none.
  Conflict* unresolvedLocked(const ConflictKey& key);
  // New evidence for the open conflict `c`; returns its id.
  std::uint64_t addEvidenceLocked(Conflict& c, Detection& detection, Millis now);
  // A conflict opened by `detection` (its id taken, not yet stored).
  Conflict newConflictLocked(Detection& detection, Millis now);
  // An unknown_station whose address's last holder had the same MAC becomes that binding's
  // stale_binding (`c` and `key` rewritten); returns the id of an open one it joins instead.
  std::optional<std::uint64_t> rewriteAsStaleLocked(Conflict& c, ConflictKey& key, Millis now,
                                                    const Observation* evidence);
  void appendEvidence(Conflict& c, const Observation* evidence) const;
  void remediate(Conflict& c, const Observation* trigger);
  Result<ledger::Applied<Conflict>> transition(const ledger::Actor& actor, std::uint64_t id,
                                               ConflictStatus to, const std::string& note);
  // Persists `c` with an audit event named `op` ("" for none). Requires mu_ held.
  // kConflict when the stored copy moved on since this engine read it (a resync follows).
  Result<std::uint64_t> persistLocked(const Conflict& c, const std::string& op,
                                      const std::string& actor);
  // Drops `c` from unresolved_ if the index names it (not another conflict of its subject).
  void unindexLocked(const Conflict& c);
  Policy policyLocked(ConflictKind kind) const;
  Millis nowMs() const;
  void workerLoop();
  // Takes in what documentsChanged() queued; requires mu_ not held.
  void applyDocumentChanges();
  // One stored conflict or policy into memory (mu_ held): the ledger's version wins.
  // The conflict's body unreadable: an error, nothing changed.
  Status adoptDocumentLocked(const ledger::DocumentRecord& d);
  void forgetDocumentLocked(const std::string& kind, const std::string& key);
  // Reads every conflict from the ledger again (mu_ held, no Conflict reference outstanding):
  // after a write refused because the stored version had moved on.
  void resyncLocked();
  // Everything held of conflicts (mu_ held), before reading them anew.
  void forgetConflictsLocked();
  // Pops and processes the oldest queued batch; `lock` holds queue_mu_ (released meanwhile).
  void processFrontLocked(std::unique_lock<std::mutex>& lock);

  LedgerPort& ledger_;
  Clock& clock_;
  EngineOptions options_;

  // Worker-only detection state. What wireView() reads (sightings_, binding_seen_,
  // observed_since_) the worker writes under wire_mu_, and reads without it.
  mutable std::mutex wire_mu_;
  Millis batch_now_ms_ = 0;  // the clock when process() took its batch (under wire_mu_)
  struct SightingKey {
    std::string network;
    std::optional<addr::IpAddress> ip;
    std::uint64_t mac = 0;
    friend bool operator==(const SightingKey&, const SightingKey&) = default;
  };
  struct SightingKeyHash {
    std::size_t operator()(const SightingKey& k) const noexcept;
  };
  struct SightingValue {
    std::string host, interface;
    Millis last = 0;
  };
  boost::unordered_flat_map<SightingKey, SightingValue, SightingKeyHash> sightings_;
  struct HostWatch {
    Millis since = 0, last = 0;
  };
  boost::unordered_flat_map<std::string, HostWatch> hosts_watched_;  // "network\nhost"
  // An observation's time, no later than the batch's clock + kFutureSkewMs.
  Millis seenAt(const Observation& o) const;
  std::uint64_t wire_view_dropped_ = 0;
  boost::unordered_flat_map<IpKey, IpTrack, IpKeyHash> ips_;
  boost::unordered_flat_map<std::uint64_t, MacTrack> macs_;
  boost::unordered_flat_map<std::uint64_t, Millis> binding_seen_;  // binding id -> last seen
  // Network -> when the engine first saw an observation from it: a binding is only "never
  // seen" after its network's wire has been watched for never_seen_ms.
  std::map<std::string, Millis> observed_since_;
  mutable std::mutex samples_mu_;  // pool_samples_ is written by the worker, read by forecast()
  std::map<std::string, std::deque<PoolSample>> pool_samples_;
  std::size_t never_seen_cursor_ = 0;
  Millis last_never_seen_check_ = 0;
  Millis last_prune_ = 0;

  // Conflicts and policies: shared with API threads.
  mutable std::mutex mu_;
  std::map<std::uint64_t, Conflict> conflicts_;
  std::map<ConflictKey, std::uint64_t> unresolved_;
  std::set<std::uint64_t> dirty_;
  // unknown_station keys already rewritten to a stale_binding conflict (id): later sightings
  // go straight there instead of asking the store's history again.
  std::map<ConflictKey, std::uint64_t> aliases_;
  std::map<ConflictKind, Policy> policies_;
  std::uint64_t last_id_ = 0;  // the highest conflict id seen or taken
  // Conflict id -> the version of its document this engine last read or wrote: its writes go
  // over that version only (putDocument's if_version).
  std::map<std::uint64_t, std::uint64_t> stored_version_;
  bool resync_needed_ = false;
  EngineStats stats_;

  // documentsChanged() -> the worker. A leaf lock: taken under the ledger's lock too.
  std::mutex changes_mu_;
  std::vector<ledger::Ledger::DocumentChanges> changes_;
  std::atomic<bool> changes_pending_{false};

  // The queue between submit() and the worker.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_, drained_cv_;
  std::deque<std::vector<Observation>> queue_;
  std::size_t queued_ = 0;
  std::uint64_t submitted_batches_ = 0, processed_batches_ = 0;
  bool stopping_ = false;
  std::thread worker_;
  std::function<bool()> leading_;
};

}  // namespace netledger::engine
