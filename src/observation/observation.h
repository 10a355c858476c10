#pragma once
// Observations: what was seen on the wire (or reported by an agent, a DHCP server, a capture, an
// API client), as the REST API carries them (`POST /v1/observations`). One record for every
// side: `netledger import-pcap` and the agent build them from frames (wire::toObservation) and
// send them (observationsToJson); the engine parses them from requests and compares them with
// the ledger. They are not themselves durable.
//
//   {"observations": [{"ip": "192.0.2.10", "mac": "52:54:00:12:34:56", "network": "default",
//     "host": "node-1", "interface": "eth0", "vlan": 100, "source": "pcap", "kind": "reply",
//     "time": "2026-11-22T10:00:00.123Z"}]}

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "addr/network.h"
#include "common/status.h"
#include "observation/frame_kind.h"

namespace netledger::observation {

// Who reported an observation: "arp", "ndp", "dhcp", "agent", "pcap", "api".
enum class Source : std::uint8_t { kArp, kNdp, kDhcp, kAgent, kPcap, kApi };

std::string_view sourceName(Source source);
// kInvalidArgument `source: "x" is not one of arp|ndp|...` unless `text` is a source's name.
Result<Source> parseSource(std::string_view text);

struct Observation {
  // The address the station claims, or for a probe (ARP probe, DAD) the address it asks about;
  // absent: the MAC was seen without an address.
  std::optional<addr::IpAddress> ip;
  addr::Mac mac;
  std::string network{addr::kDefaultNetwork};
  std::string host;                   // the node that saw it (the agent's node)
  std::string interface;              // the port / interface it was seen on
  std::optional<std::uint16_t> vlan;  // innermost VLAN id; none untagged or priority-tagged
  Source source = Source::kApi;
  FrameKind kind = FrameKind::kUnknown;
  std::int64_t time = 0;  // milliseconds since the Unix epoch; 0: when the server received it
};

// Whether the station claims `ip` as its own (and so competes for it), as opposed to probing
// whether anyone else has it (ARP probe, DAD), which claims nothing yet.
inline bool claimsAddress(const Observation& o) {
  return o.ip.has_value() && o.kind != FrameKind::kArpProbe && o.kind != FrameKind::kDadProbe;
}
inline bool probesAddress(const Observation& o) {
  return o.ip.has_value() && (o.kind == FrameKind::kArpProbe || o.kind == FrameKind::kDadProbe);
}

// RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.123Z" (truncated, not rounded).
std::string formatRfc3339Millis(std::uint64_t time_us);

// One observation as the API writes it (requests, and a conflict's evidence). Left out: an
// absent ip or vlan, an empty host or interface, kind unknown, time 0 (the receiver's clock).
boost::json::object toJson(const Observation& o);

// The request body {"observations": [...]} for a batch. Allocates: once per batch, not per
// observation.
std::string observationsToJson(std::span<const Observation> batch);

}  // namespace netledger::observation
