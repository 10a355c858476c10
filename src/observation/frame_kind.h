#pragma once
// What kind of ARP or NDP frame an observation came from, in the REST API's vocabulary:
// "request", "reply", "probe", "announcement", "ns", "na", "dad", and "unknown" for an
// observation that did not come from a frame (DHCP, an API client).

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace netledger::observation {

enum class FrameKind : std::uint8_t {
  kArpRequest,             // "request": who-has target_ip, tell sender_ip
  kArpReply,               // "reply": sender_ip is-at sender_mac
  kArpProbe,               // "probe": RFC 5227 probe, sender IP 0.0.0.0
  kArpAnnouncement,        // "announcement": gratuitous ARP, sender IP == target IP (op 1 or 2)
  kNeighborSolicitation,   // "ns": NS from an address (resolution or unreachability detection)
  kNeighborAdvertisement,  // "na"
  kDadProbe,               // "dad": NS from :: to a solicited-node group (RFC 4862 5.4.2)
  kUnknown,                // "unknown": not from a frame; a parsed frame never has it
};
// The kinds a parsed frame can have (kUnknown is not one): per-kind counters are this long.
inline constexpr int kFrameKindCount = 7;

std::string_view frameKindName(FrameKind kind);
// kInvalidArgument `kind: "x" is not one of request|reply|...` unless `text` is a kind's name.
Result<FrameKind> parseFrameKind(std::string_view text);
constexpr bool isArp(FrameKind kind) { return kind <= FrameKind::kArpAnnouncement; }

}  // namespace netledger::observation
