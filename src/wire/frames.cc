#include "wire/frames.h"

#include <algorithm>
#include <cstring>

namespace netledger::wire {

namespace {

using addr::Ipv4;
using addr::Ipv6;
using addr::Mac;
using addr::uint128;

constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;     // 802.1Q customer tag
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;     // 802.1ad service tag
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard QinQ, still seen
constexpr std::uint8_t kNextHeaderIcmpv6 = 58;
constexpr std::uint8_t kIcmpv6NeighborSolicitation = 135;
constexpr std::uint8_t kIcmpv6NeighborAdvertisement = 136;
constexpr std::uint8_t kOptionSourceLinkAddr = 1;
constexpr std::uint8_t kOptionTargetLinkAddr = 2;
constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kArpBody = 28;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kNdpFixed = 24;  // type, code, checksum, flags/reserved, target
constexpr std::size_t kMinEthernetFrame = 60;

// Big-endian loads through memcpy: no alignment assumptions, one instruction each.
inline std::uint16_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}
inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}
inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}
inline Mac loadMac(const std::uint8_t* p) {
  return Mac((std::uint64_t{load16(p)} << 32) | load32(p + 2));
}
inline Ipv6 loadIpv6(const std::uint8_t* p) {
  return Ipv6((uint128{load64(p)} << 64) | load64(p + 8));
}

inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) {
  store16(p, static_cast<std::uint16_t>(v >> 16));
  store16(p + 2, static_cast<std::uint16_t>(v));
}
inline void storeMac(std::uint8_t* p, Mac m) {
  for (int i = 0; i < 6; ++i) p[i] = m.octet(i);
}
inline void storeIpv6(std::uint8_t* p, Ipv6 a) {
  for (int i = 0; i < 16; ++i) p[i] = static_cast<std::uint8_t>(a.value() >> (120 - 8 * i));
}

inline bool isTagType(std::uint16_t type) {
  return type == kEtherTypeVlan || type == kEtherTypeQinQ || type == kEtherTypeQinQOld;
}
inline bool isMulticast(Ipv6 a) { return (a.value() >> 120) == 0xff; }
// ff02::1:ff00:0/104 (RFC 4291 2.7.1).
inline bool isSolicitedNodeGroup(Ipv6 a) {
  constexpr uint128 kGroup = (uint128{0xff02000000000000ull} << 64) | 0x00000001ff000000ull;
  return (a.value() >> 24) == (kGroup >> 24);
}

// RFC 1071 one's-complement sum. The sum is byte-order independent (RFC 1071 2(B)): native
// 64-bit words are added with end-around carry and the folded result is swapped once, which
// is a quarter of the additions and none of the per-word byte swaps.
std::uint64_t addNative(const std::uint8_t* p, std::size_t len, std::uint64_t sum) {
  unsigned __int128 acc = sum;
  for (; len >= 8; p += 8, len -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    acc += w;
  }
  if (len > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, len);
    acc += w;
  }
  std::uint64_t lo = static_cast<std::uint64_t>(acc);
  std::uint64_t folded = lo + static_cast<std::uint64_t>(acc >> 64);
  return folded + (folded < lo ? 1 : 0);
}
std::uint16_t fold(std::uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>((sum & 0xffff) + (sum >> 16));
}

// The one's-complement sum of the IPv6 pseudo-header (RFC 8200 8.1) and the ICMPv6 message,
// as a big-endian value. `ip` points at the IPv6 header, `icmp` at the message of `len` bytes.
std::uint16_t icmpv6Sum(const std::uint8_t* ip, const std::uint8_t* icmp, std::size_t len) {
  std::uint64_t native = addNative(icmp, len, addNative(ip + 8, 32, 0));  // addresses, message
  std::uint64_t sum = __builtin_bswap16(fold(native));
  sum += (len >> 16) + (len & 0xffff);  // upper-layer packet length
  sum += kNextHeaderIcmpv6;
  return fold(sum);
}

ParseError parseArp(const std::uint8_t* a, std::size_t avail, Frame& out) {
  if (avail < 8) return ParseError::kTruncated;
  if (load16(a) != 1) return ParseError::kUnsupportedHardware;
  if (load16(a + 2) != 0x0800) return ParseError::kUnsupportedProtocol;
  if (a[4] != 6 || a[5] != 4) return ParseError::kBadLength;
  std::uint16_t op = load16(a + 6);
  if (op != 1 && op != 2) return ParseError::kBadOpcode;
  if (avail < kArpBody) return ParseError::kTruncated;
  out.arp_op = op;
  out.sender_mac = loadMac(a + 8);
  out.sender_ip = Ipv4(load32(a + 14));
  out.target_mac = loadMac(a + 18);
  out.target_ip = Ipv4(load32(a + 24));
  if (op == 1 && out.sender_ip.value() == 0) {
    out.kind = FrameKind::kArpProbe;
  } else if (out.sender_ip == out.target_ip && out.sender_ip.value() != 0) {
    out.kind = FrameKind::kArpAnnouncement;
  } else {
    out.kind = op == 1 ? FrameKind::kArpRequest : FrameKind::kArpReply;
  }
  return ParseError::kOk;
}

// Walks the options after the fixed part, keeping the link-layer address of `wanted` type.
ParseError parseNdpOptions(const std::uint8_t* icmp, std::size_t len, std::uint8_t wanted,
                           Frame& out) {
  for (std::size_t pos = kNdpFixed; pos < len;) {
    if (len - pos < 2) return ParseError::kBadOption;
    std::size_t olen = std::size_t{icmp[pos + 1]} * 8;
    if (olen == 0 || olen > len - pos) return ParseError::kBadOption;
    if (icmp[pos] == wanted && !out.has_link_addr) {
      out.link_addr = loadMac(icmp + pos + 2);
      out.has_link_addr = true;
    }
    pos += olen;
  }
  return ParseError::kOk;
}

ParseError parseIpv6(const std::uint8_t* ip, std::size_t avail, Frame& out) {
  if (avail < kIpv6Header) return ParseError::kTruncated;
  if ((ip[0] >> 4) != 6) return ParseError::kBadVersion;
  std::size_t len = load16(ip + 4);
  if (ip[6] != kNextHeaderIcmpv6 || len == 0) return ParseError::kNotArpOrNdp;
  if (avail == kIpv6Header) return ParseError::kTruncated;
  const std::uint8_t* icmp = ip + kIpv6Header;
  std::uint8_t type = icmp[0];
  if (type != kIcmpv6NeighborSolicitation && type != kIcmpv6NeighborAdvertisement) {
    return ParseError::kNotArpOrNdp;
  }
  if (len > avail - kIpv6Header) return ParseError::kTruncated;
  if (len < kNdpFixed) return ParseError::kBadLength;
  if (ip[7] != 255) return ParseError::kBadHopLimit;
  if (icmp[1] != 0) return ParseError::kBadCode;
  if (icmpv6Sum(ip, icmp, len) != 0xffff) return ParseError::kBadChecksum;

  out.ip_src = loadIpv6(ip + 8);
  out.ip_dst = loadIpv6(ip + 24);
  out.target = loadIpv6(icmp + 8);
  if (isMulticast(out.target)) return ParseError::kBadAddress;
  bool advertisement = type == kIcmpv6NeighborAdvertisement;
  ParseError e = parseNdpOptions(
      icmp, len, advertisement ? kOptionTargetLinkAddr : kOptionSourceLinkAddr, out);
  if (e != ParseError::kOk) return e;
  if (advertisement) {
    out.kind = FrameKind::kNeighborAdvertisement;
    out.na_flags = icmp[4] & (kNaRouter | kNaSolicited | kNaOverride);
    if ((out.na_flags & kNaSolicited) && isMulticast(out.ip_dst)) return ParseError::kBadAddress;
  } else if (out.ip_src.value() == 0) {
    out.kind = FrameKind::kDadProbe;
    if (!isSolicitedNodeGroup(out.ip_dst)) return ParseError::kBadAddress;
    if (out.has_link_addr) return ParseError::kBadOption;
  } else {
    out.kind = FrameKind::kNeighborSolicitation;
  }
  return ParseError::kOk;
}

// Writes the Ethernet header (and tags) at p; returns its length.
std::size_t writeEthernet(std::uint8_t* p, Mac dst, Mac src, Vlan vlan, Vlan outer,
                          std::uint16_t type) {
  storeMac(p, dst);
  storeMac(p + 6, src);
  std::size_t off = 12;
  if (vlan && outer) {
    store16(p + off, kEtherTypeQinQ);
    store16(p + off + 2, *outer & 0x0fff);
    off += kVlanTag;
  }
  if (vlan) {
    store16(p + off, kEtherTypeVlan);
    store16(p + off + 2, *vlan & 0x0fff);
    off += kVlanTag;
  }
  store16(p + off, type);
  return off + 2;
}

void pad(FrameBytes& f) { f.size = std::max(f.size, kMinEthernetFrame); }

constexpr Mac kBroadcast(Mac::kMask);

}  // namespace

std::string_view parseErrorName(ParseError error) {
  switch (error) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kNotArpOrNdp:
      return "not_arp_or_ndp";
    case ParseError::kTooManyTags:
      return "too_many_tags";
    case ParseError::kUnsupportedHardware:
      return "unsupported_hw";
    case ParseError::kUnsupportedProtocol:
      return "unsupported_protocol";
    case ParseError::kBadLength:
      return "bad_length";
    case ParseError::kBadOpcode:
      return "bad_opcode";
    case ParseError::kBadVersion:
      return "bad_version";
    case ParseError::kBadHopLimit:
      return "bad_hop_limit";
    case ParseError::kBadCode:
      return "bad_code";
    case ParseError::kBadChecksum:
      return "bad_checksum";
    case ParseError::kBadOption:
      return "bad_option";
    case ParseError::kBadAddress:
      return "bad_address";
  }
  return "unknown";
}

ParseError parseFrame(std::span<const std::uint8_t> bytes, Frame& out) {
  // Field by field rather than `out = Frame{}`: GCC turns that into `rep stos`, whose start-up
  // cost was a sixth of the whole analysis.
  out.vlan = out.outer_vlan = 0;
  out.vlan_tags = 0;
  out.arp_op = 0;
  out.sender_mac = out.target_mac = out.link_addr = Mac();
  out.sender_ip = out.target_ip = Ipv4();
  out.ip_src = out.ip_dst = out.target = Ipv6();
  out.has_link_addr = false;
  out.na_flags = 0;
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  if (n < kEthernetHeader) return ParseError::kTruncated;
  out.eth_dst = loadMac(p);
  out.eth_src = loadMac(p + 6);
  std::size_t off = 12;
  std::uint16_t type = load16(p + off);
  while (isTagType(type)) {
    if (out.vlan_tags == 2) return ParseError::kTooManyTags;
    if (n < off + 2 + kVlanTag) return ParseError::kTruncated;
    out.outer_vlan = out.vlan;
    out.vlan = load16(p + off + 2) & 0x0fff;
    ++out.vlan_tags;
    off += kVlanTag;
    type = load16(p + off);
  }
  off += 2;
  if (type == kEtherTypeArp) return parseArp(p + off, n - off, out);
  if (type == kEtherTypeIpv6) return parseIpv6(p + off, n - off, out);
  return ParseError::kNotArpOrNdp;
}

std::optional<Claim> claimOf(const Frame& f) {
  switch (f.kind) {
    case FrameKind::kArpRequest:
    case FrameKind::kArpReply:
    case FrameKind::kArpAnnouncement:
      if (f.sender_ip.value() == 0) return std::nullopt;
      return Claim{f.sender_ip, f.sender_mac};
    case FrameKind::kNeighborAdvertisement:
      return Claim{f.target, f.has_link_addr ? f.link_addr : f.eth_src};
    case FrameKind::kNeighborSolicitation:
      return Claim{f.ip_src, f.has_link_addr ? f.link_addr : f.eth_src};
    case FrameKind::kArpProbe:
    case FrameKind::kDadProbe:
    case FrameKind::kUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

Mac stationMacOf(const Frame& f) {
  if (isArp(f.kind)) return f.sender_mac;
  return f.has_link_addr ? f.link_addr : f.eth_src;
}

FrameBytes buildArp(const ArpFields& a) {
  FrameBytes f;
  std::uint8_t* p = f.data.data();
  std::size_t off = writeEthernet(p, a.eth_dst, a.eth_src, a.vlan, a.outer_vlan, kEtherTypeArp);
  std::uint8_t* arp = p + off;
  store16(arp, 1);
  store16(arp + 2, 0x0800);
  arp[4] = 6;
  arp[5] = 4;
  store16(arp + 6, a.op);
  storeMac(arp + 8, a.sender_mac);
  store32(arp + 14, a.sender_ip.value());
  storeMac(arp + 18, a.target_mac);
  store32(arp + 24, a.target_ip.value());
  f.size = off + kArpBody;
  pad(f);
  return f;
}

namespace {

// An ARP frame `mac` sends about itself: Ethernet source and sender hardware address agree.
ArpFields arpFrom(Mac mac, std::uint16_t op, Mac eth_dst, Vlan vlan) {
  ArpFields a;
  a.op = op;
  a.eth_src = a.sender_mac = mac;
  a.eth_dst = eth_dst;
  a.vlan = vlan;
  return a;
}

}  // namespace

FrameBytes buildArpRequest(Mac sender_mac, Ipv4 sender_ip, Ipv4 target_ip, Vlan vlan) {
  ArpFields a = arpFrom(sender_mac, 1, kBroadcast, vlan);
  a.sender_ip = sender_ip;
  a.target_ip = target_ip;
  return buildArp(a);
}

FrameBytes buildArpReply(Mac sender_mac, Ipv4 sender_ip, Mac target_mac, Ipv4 target_ip,
                         Vlan vlan) {
  ArpFields a = arpFrom(sender_mac, 2, target_mac, vlan);
  a.sender_ip = sender_ip;
  a.target_mac = target_mac;
  a.target_ip = target_ip;
  return buildArp(a);
}

FrameBytes buildArpProbe(Mac mac, Ipv4 probed, Vlan vlan) {
  ArpFields a = arpFrom(mac, 1, kBroadcast, vlan);
  a.target_ip = probed;  // sender IP and target hardware address stay zero (RFC 5227 2.1.1)
  return buildArp(a);
}

FrameBytes buildArpAnnouncement(Mac mac, Ipv4 ip, AnnouncementForm form, Vlan vlan) {
  bool reply = form == AnnouncementForm::kReply;
  ArpFields a = arpFrom(mac, reply ? 2 : 1, kBroadcast, vlan);
  a.target_mac = reply ? mac : Mac();
  a.sender_ip = a.target_ip = ip;
  return buildArp(a);
}

FrameBytes buildNdp(const NdpFields& n) {
  FrameBytes f;
  std::uint8_t* p = f.data.data();
  std::size_t off = writeEthernet(p, n.eth_dst, n.eth_src, n.vlan, n.outer_vlan, kEtherTypeIpv6);
  std::uint8_t* ip = p + off;
  std::size_t icmp_len = kNdpFixed + (n.link_addr ? 8 : 0);
  store32(ip, 0x60000000);  // version 6, traffic class 0, flow label 0
  store16(ip + 4, static_cast<std::uint16_t>(icmp_len));
  ip[6] = kNextHeaderIcmpv6;
  ip[7] = n.hop_limit;
  storeIpv6(ip + 8, n.ip_src);
  storeIpv6(ip + 24, n.ip_dst);
  std::uint8_t* icmp = ip + kIpv6Header;
  icmp[0] = n.advertisement ? kIcmpv6NeighborAdvertisement : kIcmpv6NeighborSolicitation;
  icmp[1] = 0;
  icmp[4] = n.advertisement ? n.na_flags : 0;
  storeIpv6(icmp + 8, n.target);
  if (n.link_addr) {
    icmp[24] = n.advertisement ? kOptionTargetLinkAddr : kOptionSourceLinkAddr;
    icmp[25] = 1;  // 8 bytes
    storeMac(icmp + 26, *n.link_addr);
  }
  store16(icmp + 2, static_cast<std::uint16_t>(~icmpv6Sum(ip, icmp, icmp_len)));
  f.size = off + kIpv6Header + icmp_len;
  pad(f);
  return f;
}

namespace {

// An NS from `mac` for `target`, to the target's solicited-node group.
NdpFields solicitationFor(Mac mac, Ipv6 target, Vlan vlan) {
  NdpFields n;
  n.ip_dst = solicitedNodeGroup(target);
  n.eth_dst = multicastMac(n.ip_dst);
  n.eth_src = mac;
  n.target = target;
  n.vlan = vlan;
  return n;
}

}  // namespace

FrameBytes buildNeighborSolicitation(Mac src_mac, Ipv6 src_ip, Ipv6 target, Vlan vlan) {
  NdpFields n = solicitationFor(src_mac, target, vlan);
  n.ip_src = src_ip;
  n.link_addr = src_mac;
  return buildNdp(n);
}

FrameBytes buildDadProbe(Mac mac, Ipv6 target, Vlan vlan) {
  // From the unspecified address, and so without SLLA (RFC 4861 7.2.2).
  return buildNdp(solicitationFor(mac, target, vlan));
}

FrameBytes buildNeighborAdvertisement(Mac mac, Ipv6 target, std::uint8_t flags,
                                      std::optional<NeighborAddress> to, Vlan vlan) {
  const Ipv6 all_nodes((uint128{0xff02000000000000ull} << 64) | 1);
  NeighborAddress dst = to.value_or(NeighborAddress{multicastMac(all_nodes), all_nodes});
  NdpFields n;
  n.advertisement = true;
  n.eth_src = mac;
  n.eth_dst = dst.mac;
  n.ip_src = target;
  n.ip_dst = dst.ip;
  n.target = target;
  n.na_flags = flags;
  n.link_addr = mac;
  n.vlan = vlan;
  return buildNdp(n);
}

Ipv6 solicitedNodeGroup(Ipv6 address) {
  constexpr uint128 kGroup = (uint128{0xff02000000000000ull} << 64) | 0x00000001ff000000ull;
  return Ipv6(kGroup | (address.value() & 0xffffff));
}

Mac multicastMac(Ipv6 group) {
  return Mac(0x333300000000ull | static_cast<std::uint32_t>(group.value()));
}

}  // namespace netledger::wire
