#pragma once
// Probe before use: is an address really free on the link?
//
// IPv4, RFC 5227 section 2.1: wait a random 0..PROBE_WAIT, send PROBE_NUM ARP probes (sender IP
// 0.0.0.0, target hardware address zero, broadcast) PROBE_MIN..PROBE_MAX apart, then listen
// ANNOUNCE_WAIT. The address is in use if, from the first probe on, any ARP packet has it as
// sender IP, or an ARP probe for it comes from a hardware address that is not ours (someone else
// probing at the same time).
// IPv6, RFC 4862 section 5.4: DupAddrDetectTransmits neighbor solicitations from :: to the
// target's solicited-node group, RetransTimer apart and after; in use if a neighbor
// advertisement for the target arrives, or a DAD solicitation for it from another station.
//
// A probe runs on the caller's thread (seconds with RFC timings) and stops early on an answer
// or when `stop` turns true.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "agent/config.h"
#include "agent/link_layer.h"

namespace netledger::agent {

struct ProbeAnswer {
  addr::Mac mac;     // who answers for the address
  std::string port;  // where it was seen
};

// Decides, frame by frame, whether a frame shows the address in use. Thread-safe: onFrame runs
// on the capture thread while the prober waits.
class ProbeWatch final : public FrameWatcher {
 public:
  ProbeWatch(addr::IpAddress target, std::vector<addr::Mac> own_macs);
  void onFrame(const wire::Frame& frame, const std::string& port) override;
  // Waits until an answer arrives or `deadline` passes; returns the answer if any.
  std::optional<ProbeAnswer> waitUntil(std::chrono::steady_clock::time_point deadline);
  std::optional<ProbeAnswer> answer() const;

  // The rule itself, for tests and fuzzing: the MAC that frame shows holding (or probing for)
  // `target`, if any.
  static std::optional<addr::Mac> answerOf(const wire::Frame& frame, const addr::IpAddress& target,
                                           const std::vector<addr::Mac>& own_macs);

 private:
  addr::IpAddress target_;
  std::vector<addr::Mac> own_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<ProbeAnswer> answer_;
};

struct ProbeResult {
  std::optional<ProbeAnswer> answer;  // empty: the address is free
  int frames_sent = 0;                // probes sent (summed over interfaces)
  bool stopped = false;               // `stop` interrupted it: the verdict means nothing
};

ProbeResult probeAddress(LinkLayer& link, const addr::IpAddress& ip, const ProbeTiming& timing,
                         const std::atomic<bool>& stop, std::mt19937_64& rng);

}  // namespace netledger::agent
