#pragma once
// Observations: what was seen on the wire (or reported by an agent, a DHCP server, a capture,
// an API client). The engine compares them with the ledger; they are not themselves durable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"
#include "ledger/model.h"

namespace netledger::engine {

using ledger::Millis;

enum class Source : std::uint8_t { kArp, kNdp, kDhcp, kAgent, kPcap, kApi };
// The ARP/NDP frame an observation came from (kUnknown for other sources).
enum class FrameKind : std::uint8_t {
  kUnknown,
  kRequest,       // ARP request with a sender address
  kReply,         // ARP reply
  kProbe,         // RFC 5227 probe: sender IP 0.0.0.0, asking about `ip`
  kAnnouncement,  // gratuitous ARP (request or reply form)
  kNs,            // IPv6 neighbor solicitation from a configured address
  kNa,            // IPv6 neighbor advertisement
  kDad,           // IPv6 duplicate address detection: NS from ::, asking about `ip`
};

std::string_view sourceName(Source s);
Result<Source> parseSource(std::string_view text);
std::string_view frameKindName(FrameKind k);
Result<FrameKind> parseFrameKind(std::string_view text);

struct Observation {
  std::optional<addr::IpAddress> ip;  // absent: the MAC was seen without an address
  addr::Mac mac;
  std::string network = "default";
  std::string host;       // the node that saw it (the agent's node)
  std::string interface;  // the port / interface it was seen on
  std::optional<int> vlan;
  Source source = Source::kApi;
  FrameKind kind = FrameKind::kUnknown;
  Millis time = 0;  // 0: when the server received it
};

// Whether the station claims `ip` as its own (and so competes for it), as opposed to probing
// whether anyone else has it (ARP probe, DAD), which claims nothing yet.
inline bool claimsAddress(const Observation& o) {
  return o.ip.has_value() && o.kind != FrameKind::kProbe && o.kind != FrameKind::kDad;
}
inline bool probesAddress(const Observation& o) {
  return o.ip.has_value() && (o.kind == FrameKind::kProbe || o.kind == FrameKind::kDad);
}

boost::json::object toJson(const Observation& o);

// Parses one observation of a POST /v1/observations body. Errors name the field with `where`
// as its prefix ("observations[3].mac: ..."). `now` fills a missing time.
Result<Observation> observationFromJson(const boost::json::value& v, const std::string& where,
                                        Millis now);

// A POST /v1/observations body: {"observations": [...]} or a bare array of at most `max`.
// Errors name the field ("observations[3].mac: ...").
Result<std::vector<Observation>> observationsFromJson(std::string_view body, Millis now,
                                                      std::size_t max);

}  // namespace netledger::engine
