#pragma once
// ProbeCoordinator: the server side of "probe before use" (RFC 5227 / RFC 4862 DAD done by the
// host's agent). An allocation with `probe` creates its binding `reserved`; the agent sees the
// `binding.allocate` event, probes every address on the wire and reports each one. This class
// keeps the per-binding progress between those reports and answers the allocation request
// that waits for the outcome:
//
//   every address reported free        -> Ledger::activate, the waiter gets the active binding
//   an address reported in use         -> Ledger::reassignAddress (the address goes to
//                                         quarantine, the binding gets another one and stays
//                                         reserved; the agent probes that one next), and the
//                                         answer goes to the engine as an observation so an
//                                         unknown_station conflict names the MAC
//   `attempts` addresses in use        -> Ledger::release, the waiter gets a conflict
//   no outcome before the wait's limit -> the waiter gets the binding as it is (still reserved)
//
// Progress lives in memory only: after a restart a reserved binding starts over with nothing
// reported (the agent simply reports again) and a fresh attempt count.
//
// Thread safety: every public method is safe from any thread. Allocation and reports are
// serialized by one mutex (they are rare next to renewals), so a report can never see a
// binding the allocation has not registered yet. Waiters are called exactly once, never with
// that mutex held: from the reporting request's thread, the deadline thread, expireDue() or
// stop().
//
// Time: deadlines are the Clock's (a test's FakeClock moves them; expireDue() then runs what
// is due at once, as the deadline thread would once it wakes).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"
#include "server/probe/probe_ledger.h"

namespace netledger::engine {
class Engine;
}

namespace netledger::server {

struct ProbeOptions {
  // Addresses found in use before an allocation gives up (the first pick included).
  int attempts = 3;
  // Upper bound on how long an allocation waits for its outcome; 0 answers at once with the
  // reserved binding (the in-process API fuzzer, which must never wait).
  std::chrono::milliseconds max_wait{std::chrono::seconds(120)};
  // How often progress of bindings that left `reserved` some other way (released, expired)
  // is dropped.
  std::chrono::milliseconds purge_interval{std::chrono::seconds(10)};
};

// How the wait of a probed allocation ended.
enum class ProbeOutcomeKind {
  kActivated,  // every address free: `binding` is active
  kExhausted,  // addresses in use and no other to try: the binding was released; `error` says
               // which addresses answered and with which MACs
  kTimedOut,   // no outcome in time: `binding` as it is now (absent if it was released)
  kShutdown,   // the server is stopping: as kTimedOut
};

struct InUseAddress {
  addr::IpAddress ip;
  addr::Mac mac;
};

struct ProbeOutcome {
  ProbeOutcomeKind kind = ProbeOutcomeKind::kTimedOut;
  std::uint64_t binding_id = 0;
  std::optional<ledger::BindingRecord> binding;
  Status error;                      // kExhausted: a kConflict naming the address and the MACs
  std::vector<InUseAddress> in_use;  // every address found in use, in report order
  std::uint64_t ticket = 0;          // answer only once this ledger ticket is durable
};

// Called exactly once per registered allocation.
using ProbeWaiter = std::function<void(ProbeOutcome)>;

// One agent's report about one address of a reserved binding.
struct ProbeReport {
  addr::IpAddress address;
  bool in_use = false;
  std::optional<addr::Mac> mac;  // the station that answered; required when in_use
  std::string interface;         // where the agent probed (for the observation), may be ""
};

class ProbeCoordinator {
 public:
  // `ledger` (a ProbeLedgerAdapter over the Ledger) and `clock` must outlive the coordinator;
  // `engine` too when not null (no observations then).
  ProbeCoordinator(ProbeLedger& ledger, engine::Engine* engine, Clock& clock,
                   ProbeOptions options = {});
  ~ProbeCoordinator();
  ProbeCoordinator(const ProbeCoordinator&) = delete;
  ProbeCoordinator& operator=(const ProbeCoordinator&) = delete;

  // Starts the deadline thread (waits time out only while it runs). Idempotent.
  void start();
  // Answers every waiting allocation (kShutdown) and stops the deadline thread; later
  // allocations are answered at once. Reports keep working. Idempotent.
  void stop();
  // Answers the waiters whose deadline has passed by the clock's now (kTimedOut) and drops
  // stale progress when a purge is due: what the deadline thread does when it wakes. For tests
  // that move a FakeClock; safe beside the deadline thread (each waiter is answered once).
  void expireDue();

  // Allocates with request.probe set. A new binding is registered and `waiter` is called once
  // its outcome is known or after min(timeout, max_wait); the returned Applied has created =
  // true. An idempotent repeat (created = false) and an error register nothing and never call
  // `waiter`. An explicitly requested address or a static binding is not replaced: the first
  // address in use ends the allocation.
  Result<ledger::Applied<ledger::BindingRecord>> allocate(const ledger::Actor& actor,
                                                          const ledger::AllocateRequest& request,
                                                          std::chrono::milliseconds timeout,
                                                          ProbeWaiter waiter);

  // Applies a report. Returns the binding after it (released when the attempts ran out) and
  // the ticket to wait on (0 when nothing was written). kNotFound for an unknown binding,
  // kConflict when it is not reserved, kInvalidArgument (naming `address`) when the address is
  // not one of its addresses, or `mac` missing for in_use; ledger errors otherwise.
  Result<ledger::Applied<ledger::BindingRecord>> report(const ledger::Actor& actor,
                                                        std::uint64_t id,
                                                        const ProbeReport& report);

  // Bindings with progress kept / allocations waiting (tests, metrics).
  std::size_t tracked() const;
  std::size_t waiting() const;

 private:
  struct Waiter {
    ledger::Actor actor;       // reads the binding for a timeout answer with the caller's rights
    TimePoint deadline;        // by clock_
    std::uint64_t ticket = 0;  // the allocation's
    ProbeWaiter callback;
  };
  struct Progress {
    std::set<addr::IpAddress> free;  // reported free, still held
    std::vector<InUseAddress> in_use;
    bool retry = true;  // an address in use may be replaced by another from its pool
    std::optional<Waiter> waiter;
  };
  // A waiter to call once mu_ is released.
  using Due = std::pair<ProbeWaiter, ProbeOutcome>;

  Result<ledger::Applied<ledger::BindingRecord>> reportFreeLocked(const ledger::Actor& actor,
                                                                  const ledger::BindingRecord& b,
                                                                  Progress& progress,
                                                                  const addr::IpAddress& ip,
                                                                  std::vector<Due>& due);
  Result<ledger::Applied<ledger::BindingRecord>> reportInUseLocked(const ledger::Actor& actor,
                                                                   const ledger::BindingRecord& b,
                                                                   Progress& progress,
                                                                   const ProbeReport& report,
                                                                   std::vector<Due>& due);
  // Tells the engine that `ip` answered with `mac`: the address is no longer the binding's, so
  // the unknown_station rule opens a conflict naming the station.
  void observe(const ledger::BindingRecord& b, const ProbeReport& report);
  // The outcome for a waiter whose time is up (reads the binding; call without mu_).
  ProbeOutcome timedOut(std::uint64_t id, const Waiter& waiter, ProbeOutcomeKind kind);
  void deadlineLoop();
  // When the deadline thread must next look: the earliest deadline or the next purge.
  TimePoint nextDueLocked() const;
  // expireDue() with `lock` (on mu_) held on entry and exit; released to call the waiters.
  void expireDueLocked(std::unique_lock<std::mutex>& lock);
  // Drops progress whose binding is no longer reserved and that nobody waits on.
  void purgeLocked();

  ProbeLedger& ledger_;
  engine::Engine* engine_;
  Clock& clock_;
  const ProbeOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Progress> progress_;  // binding id ->
  TimePoint next_purge_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread deadlines_;
};

}  // namespace netledger::server
