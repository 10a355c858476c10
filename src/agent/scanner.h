#pragma once
// Active scan of a pool's ranges from this node: one probe per address (ARP probe for IPv4,
// DAD-style solicitation for IPv6 — neither touches anyone's neighbour cache), at a bounded rate,
// then a final listening period. Every station that answers for an address in the ranges is
// recorded (and, through the snooper, also reported as an observation, so the consistency
// engine judges it like any other sighting).

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "agent/config.h"
#include "agent/jobs.h"
#include "agent/link_layer.h"

namespace netledger::agent {

struct ScanOutcome {
  std::vector<std::pair<addr::IpAddress, addr::Mac>> answered;  // sorted by address
  std::uint64_t probed = 0;
  bool stopped = false;
};

ScanOutcome scanRanges(LinkLayer& link, const ScanJob& job, Millis listen_after,
                       const std::atomic<bool>& stop);

}  // namespace netledger::agent
