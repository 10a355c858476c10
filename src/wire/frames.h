#pragma once
// Ethernet II frames carrying ARP (RFC 826, RFC 5227) or IPv6 Neighbor Discovery (RFC 4861,
// RFC 4862): a parser and builders shared by `netledger analyze-pcap` / `import-pcap` and the
// node agent.
//
// The parser is on the hot path of pcap analysis (millions of frames a second), so it never
// allocates, never throws and never reads outside the span it is given: it fills a plain
// struct and returns an error enum. Builders write into a fixed-size buffer (no allocation
// either) with correct ICMPv6 checksums and the 60-byte Ethernet minimum (FCS excluded).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "addr/ip_address.h"
#include "addr/ipv4.h"
#include "addr/ipv6.h"
#include "addr/mac.h"
#include "observation/frame_kind.h"

namespace netledger::wire {

// What a frame is, in the observation API's vocabulary (src/observation/frame_kind.h); a parsed
// frame is never FrameKind::kUnknown.
using observation::FrameKind;
using observation::frameKindName;
using observation::isArp;
using observation::kFrameKindCount;

// Why a frame was not parsed. kNotArpOrNdp is ordinary traffic that is simply not ours; the
// others are malformed or invalid ARP/NDP (RFC 4861 section 7.1 validity checks included).
enum class ParseError : std::uint8_t {
  kOk = 0,
  kTruncated,            // the span ends inside a header the frame announces
  kNotArpOrNdp,          // another EtherType, IPv6 next header or ICMPv6 type
  kTooManyTags,          // more than two 802.1Q/802.1ad tags
  kUnsupportedHardware,  // ARP hardware type other than Ethernet (1)
  kUnsupportedProtocol,  // ARP protocol type other than IPv4 (0x0800)
  kBadLength,            // ARP hlen/plen not 6/4; ICMPv6 NS/NA shorter than 24 bytes
  kBadOpcode,            // ARP operation other than request (1) or reply (2)
  kBadVersion,           // IPv6 header whose version field is not 6
  kBadHopLimit,          // NDP hop limit not 255: it crossed a router (RFC 4861 7.1.1)
  kBadCode,              // ICMPv6 code not 0
  kBadChecksum,          // the ICMPv6 checksum does not verify
  kBadOption,            // NDP option of length 0 or past the end; SLLA in a DAD probe
  kBadAddress,           // multicast target; DAD not sent to a solicited-node group;
                         // solicited NA sent to a multicast address
};
inline constexpr int kParseErrorCount = 14;

// "ok", "truncated", "not_arp_or_ndp", "too_many_tags", "unsupported_hw", ...
std::string_view parseErrorName(ParseError error);

// Neighbor Advertisement flag bits as they sit in the first byte after the checksum.
inline constexpr std::uint8_t kNaRouter = 0x80;
inline constexpr std::uint8_t kNaSolicited = 0x40;
inline constexpr std::uint8_t kNaOverride = 0x20;

// One parsed frame. Fields of the other protocol are left zero.
struct Frame {
  addr::Mac eth_dst;
  addr::Mac eth_src;
  std::uint16_t vlan = 0;        // VLAN id of the innermost tag; 0 untagged or priority-tagged
  std::uint16_t outer_vlan = 0;  // VLAN id of the outer (service) tag of a double-tagged frame
  std::uint8_t vlan_tags = 0;    // 0, 1 or 2
  FrameKind kind = FrameKind::kArpRequest;

  // ARP (isArp(kind)).
  std::uint16_t arp_op = 0;  // 1 request, 2 reply: an announcement comes in either form
  addr::Mac sender_mac;
  addr::Mac target_mac;
  addr::Ipv4 sender_ip;
  addr::Ipv4 target_ip;

  // NDP (ns, na, dad).
  addr::Ipv6 ip_src;
  addr::Ipv6 ip_dst;
  addr::Ipv6 target;
  addr::Mac link_addr;  // source (NS) or target (NA) link-layer address option
  bool has_link_addr = false;
  std::uint8_t na_flags = 0;  // kNaRouter | kNaSolicited | kNaOverride
};

// Parses an Ethernet II frame (optionally with one or two 802.1Q / 802.1ad tags) carrying ARP
// for IPv4 over Ethernet, or an ICMPv6 Neighbor Solicitation / Advertisement. Trailing bytes
// (Ethernet padding, FCS) are ignored. On kOk `out` is filled; on an error its contents are
// unspecified. Never allocates, never throws, reads only inside `bytes`.
ParseError parseFrame(std::span<const std::uint8_t> bytes, Frame& out);

// The (address, MAC) pair a frame asserts, if any: the sender of an ARP request, reply or
// announcement with a non-zero sender IP; the target of an NA with its TLLA (else the Ethernet
// source); the source of an NS from a unicast address with its SLLA (else the Ethernet source).
// Probes (ARP and DAD) claim nothing: the prober does not hold the address yet.
struct Claim {
  addr::IpAddress ip;
  addr::Mac mac;
};
std::optional<Claim> claimOf(const Frame& frame);

// The MAC a frame speaks for: ARP sender hardware address; NDP link-layer option, else the
// Ethernet source.
addr::Mac stationMacOf(const Frame& frame);

// ---------------------------------------------------------------------------------------------
// Builders

// Bytes of one built frame. 96 bytes hold the largest (a double-tagged NA with its option).
struct FrameBytes {
  std::array<std::uint8_t, 96> data{};
  std::size_t size = 0;
  std::span<const std::uint8_t> bytes() const { return {data.data(), size}; }
};

// An 802.1Q tag with this VLAN id (1..4094), or none.
using Vlan = std::optional<std::uint16_t>;

// Every ARP field, for callers that need an unusual frame (tests, spoofing simulations).
struct ArpFields {
  std::uint16_t op = 1;
  addr::Mac eth_src;
  addr::Mac eth_dst;
  addr::Mac sender_mac;
  addr::Ipv4 sender_ip;
  addr::Mac target_mac;
  addr::Ipv4 target_ip;
  Vlan vlan;
  Vlan outer_vlan;  // with `vlan`: an 802.1ad outer tag (QinQ)
};
FrameBytes buildArp(const ArpFields& fields);

// who-has target_ip tell sender_ip, broadcast.
FrameBytes buildArpRequest(addr::Mac sender_mac, addr::Ipv4 sender_ip, addr::Ipv4 target_ip,
                           Vlan vlan = {});
// sender_ip is-at sender_mac, unicast to the asker.
FrameBytes buildArpReply(addr::Mac sender_mac, addr::Ipv4 sender_ip, addr::Mac target_mac,
                         addr::Ipv4 target_ip, Vlan vlan = {});
// RFC 5227 probe: sender IP 0.0.0.0, target hardware address zero, broadcast.
FrameBytes buildArpProbe(addr::Mac mac, addr::Ipv4 probed, Vlan vlan = {});
// Gratuitous ARP, broadcast, sender IP == target IP == ip. The request form is RFC 5227's
// announcement (target hardware address zero); the reply form (op 2, target hardware address
// == mac) is what many stacks and failover daemons send.
enum class AnnouncementForm : std::uint8_t { kRequest, kReply };
FrameBytes buildArpAnnouncement(addr::Mac mac, addr::Ipv4 ip,
                                AnnouncementForm form = AnnouncementForm::kRequest, Vlan vlan = {});

// Every NDP field, for callers that need an unusual frame.
struct NdpFields {
  bool advertisement = false;  // NA (136) instead of NS (135)
  addr::Mac eth_src;
  addr::Mac eth_dst;
  addr::Ipv6 ip_src;
  addr::Ipv6 ip_dst;
  addr::Ipv6 target;
  std::uint8_t na_flags = 0;
  std::optional<addr::Mac> link_addr;  // SLLA (NS) or TLLA (NA) option
  std::uint8_t hop_limit = 255;
  Vlan vlan;
  Vlan outer_vlan;
};
FrameBytes buildNdp(const NdpFields& fields);

// NS for `target` from src_ip with an SLLA option, to the target's solicited-node group.
FrameBytes buildNeighborSolicitation(addr::Mac src_mac, addr::Ipv6 src_ip, addr::Ipv6 target,
                                     Vlan vlan = {});
// DAD probe: NS from :: without SLLA to ff02::1:ffXX:XXXX, Ethernet 33:33:ff:XX:XX:XX.
FrameBytes buildDadProbe(addr::Mac mac, addr::Ipv6 target, Vlan vlan = {});
// NA for `target` from `target` with a TLLA option. Unsolicited (no kNaSolicited in flags):
// to all-nodes ff02::1; solicited: to `to` (the soliciting node's address and MAC).
struct NeighborAddress {
  addr::Mac mac;
  addr::Ipv6 ip;
};
FrameBytes buildNeighborAdvertisement(addr::Mac mac, addr::Ipv6 target, std::uint8_t flags,
                                      std::optional<NeighborAddress> to = {}, Vlan vlan = {});

// ff02::1:ffXX:XXXX, the solicited-node multicast group of `address` (RFC 4291 2.7.1).
addr::Ipv6 solicitedNodeGroup(addr::Ipv6 address);
// 33:33 followed by the group's last 32 bits (RFC 2464 section 7).
addr::Mac multicastMac(addr::Ipv6 group);

}  // namespace netledger::wire
