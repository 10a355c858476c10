#pragma once
// A parsed frame as an observation of the REST API (src/observation/observation.h), for
// `netledger import-pcap` and the agent.

#include <cstdint>

#include "observation/observation.h"
#include "wire/frames.h"

namespace netledger::wire {

// The address the frame claims (claimOf) or, for a probe (ARP probe, DAD), the address it asks
// about; the station's MAC (stationMacOf); the innermost VLAN (none untagged or priority-tagged);
// the kind; the source (arp or ndp); `time_us` (microseconds since the Unix epoch) truncated to
// milliseconds. Where it was seen (network, host, interface) is the caller's to fill in.
observation::Observation toObservation(const Frame& frame, std::uint64_t time_us);

}  // namespace netledger::wire
