#pragma once
// A parsed frame as an observation of the REST API (`POST /v1/observations`): what was seen on
// the wire, by whom and when. Shared by `netledger import-pcap` and the agent.
//
//   {"observations": [{"ip": "192.0.2.10", "mac": "52:54:00:12:34:56", "network": "default",
//     "host": "node-1", "interface": "eth0", "vlan": 100, "source": "pcap", "kind": "reply",
//     "time": "2026-11-22T10:00:00.123Z"}]}

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "wire/frames.h"

namespace netledger::wire {

struct Observation {
  // The address the frame claims (claimOf); none for probes (ARP probe, DAD), whose sender
  // holds no address yet.
  std::optional<addr::IpAddress> ip;
  addr::Mac mac;                      // stationMacOf(frame)
  std::optional<std::uint16_t> vlan;  // innermost VLAN id; none untagged or priority-tagged
  FrameKind kind = FrameKind::kArpRequest;
  std::uint64_t time_us = 0;  // microseconds since the Unix epoch
};

Observation toObservation(const Frame& frame, std::uint64_t time_us);

// Where the observations were made: the same for a whole capture. Empty host and interface
// are left out of the JSON.
struct ObservationContext {
  std::string network = "default";
  std::string host;
  std::string interface;
  std::string source = "pcap";
};

// RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.123Z" (truncated, not rounded).
std::string formatRfc3339Millis(std::uint64_t time_us);

// The request body {"observations": [...]} for a batch. Allocates: once per batch, not per
// frame.
std::string observationsToJson(std::span<const Observation> batch,
                               const ObservationContext& context);

}  // namespace netledger::wire
