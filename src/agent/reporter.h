#pragma once
// Observations from the wire to the server: a bounded queue, drained in batches bounded by size
// and time (POST /v1/observations), with exponential backoff while the server is away.
//
// Memory stays bounded under any flood: the queue holds at most `queue_max` observations, and
// what does not fit is dropped and counted, never buffered. Repeats of an observation already
// waiting (same address, MAC, kind, port and VLAN) are coalesced: an ARP storm of one frame costs
// one entry. A batch the server refuses as invalid (4xx) is dropped and counted; one it could not
// take (transport error, 429, 5xx) is kept and retried, while new observations keep queueing
// behind it up to the bound.
//
// Coalescing never hides a change: an observation is dropped as a repeat only when the last
// queued observation of the same MAC is identical (address, kind, port, VLAN), so a MAC moving
// between ports or addresses keeps every step of its path (the engine counts them as flapping).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "agent/config.h"
#include "common/status.h"
#include "observation/observation.h"

namespace netledger::agent {

struct ReporterCounters {
  std::atomic<std::uint64_t> queued{0}, coalesced{0}, dropped_full{0}, sent{0}, rejected{0},
      batches{0}, send_failures{0};
};

class Reporter {
 public:
  // POSTs a body to /v1/observations: the HTTP status, or unavailable when nothing answered.
  using Send = std::function<Result<unsigned>(const std::string& body)>;

  Reporter(const AgentConfig& config, Send send);
  ~Reporter();  // stop()

  // Queues one observation (any thread), with the agent's node and network. `o.interface` is the
  // port it was seen on. False when dropped because the queue is full.
  bool offer(observation::Observation o);
  void start();
  // Sends what is queued (one last try, bounded by the sender's own timeout) and joins.
  void stop();

  const ReporterCounters& counters() const { return counters_; }
  std::size_t depth() const;
  bool serverReachable() const { return reachable_.load(); }

  // One batch, synchronously (tests): takes up to batch_max, sends, requeues on failure.
  // Returns the send outcome (ok when there was nothing to send).
  Status flushOnce();

 private:
  // What makes two observations of one MAC the same news (no allocation: ports fit in SSO).
  struct Sighting {
    std::optional<addr::IpAddress> ip;
    observation::FrameKind kind = observation::FrameKind::kUnknown;
    std::optional<std::uint16_t> vlan;
    std::string interface;
    friend bool operator==(const Sighting&, const Sighting&) = default;
  };
  static Sighting sightingOf(const observation::Observation& o);
  void run();

  const AgentConfig& config_;
  Send send_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<observation::Observation> queue_;
  // Per MAC, the key of its last observation still in the queue.
  boost::unordered_flat_map<addr::Mac, Sighting, addr::MacHash> last_by_mac_;
  std::vector<observation::Observation> retry_;  // a batch the server could not take
  ReporterCounters counters_;
  std::atomic<bool> reachable_{false};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace netledger::agent
