// Fuzzes the ARP/NDP frame parser: never a crash or a read past the input (ASan); a parsed
// frame is consistent with its kind, and building it again from the parsed fields gives a frame
// that parses to the same fields (the builders and the parser agree on every input).
#include <cstdint>
#include <cstring>
#include <memory>

#include "fuzz_check.h"
#include "wire/frame_observation.h"
#include "wire/frames.h"

using namespace netledger;
using namespace netledger::wire;

namespace {

Vlan innerTag(const Frame& f) { return f.vlan_tags > 0 ? Vlan(f.vlan) : Vlan(); }
Vlan outerTag(const Frame& f) { return f.vlan_tags > 1 ? Vlan(f.outer_vlan) : Vlan(); }

FrameBytes rebuild(const Frame& f) {
  if (isArp(f.kind)) {
    ArpFields a;
    a.op = f.arp_op;
    a.eth_src = f.eth_src;
    a.eth_dst = f.eth_dst;
    a.sender_mac = f.sender_mac;
    a.sender_ip = f.sender_ip;
    a.target_mac = f.target_mac;
    a.target_ip = f.target_ip;
    a.vlan = innerTag(f);
    a.outer_vlan = outerTag(f);
    return buildArp(a);
  }
  NdpFields n;
  n.advertisement = f.kind == FrameKind::kNeighborAdvertisement;
  n.eth_src = f.eth_src;
  n.eth_dst = f.eth_dst;
  n.ip_src = f.ip_src;
  n.ip_dst = f.ip_dst;
  n.target = f.target;
  n.na_flags = f.na_flags;
  if (f.has_link_addr) n.link_addr = f.link_addr;
  n.vlan = innerTag(f);
  n.outer_vlan = outerTag(f);
  return buildNdp(n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size copy: ASan reports any read past the frame.
  auto copy = std::make_unique<std::uint8_t[]>(size);
  if (size > 0) std::memcpy(copy.get(), data, size);
  Frame f;
  ParseError e = parseFrame({copy.get(), size}, f);
  FUZZ_CHECK(!parseErrorName(e).empty());
  if (e != ParseError::kOk) return 0;

  FUZZ_CHECK(f.vlan_tags <= 2);
  FUZZ_CHECK(f.vlan <= 4095 && f.outer_vlan <= 4095);
  FUZZ_CHECK(frameKindName(f.kind) != "unknown");
  auto claim = claimOf(f);
  switch (f.kind) {
    case FrameKind::kArpProbe:
      FUZZ_CHECK(f.sender_ip.value() == 0 && !claim);
      break;
    case FrameKind::kArpAnnouncement:
      FUZZ_CHECK(f.sender_ip == f.target_ip && claim);
      break;
    case FrameKind::kDadProbe:
      FUZZ_CHECK(f.ip_src.value() == 0 && !f.has_link_addr && !claim);
      break;
    case FrameKind::kNeighborSolicitation:
      FUZZ_CHECK(f.ip_src.value() != 0 && claim && claim->ip == addr::IpAddress(f.ip_src));
      break;
    case FrameKind::kNeighborAdvertisement:
      FUZZ_CHECK(claim && claim->ip == addr::IpAddress(f.target));
      break;
    default:
      break;
  }
  observation::Observation o = toObservation(f, 1'795'341'600'000'000ull);
  FUZZ_CHECK(o.kind == f.kind);
  // A claim's address, or for a probe the address it asks about; nothing otherwise.
  if (f.kind == FrameKind::kArpProbe) {
    FUZZ_CHECK(o.ip == addr::IpAddress(f.target_ip));
  } else if (f.kind == FrameKind::kDadProbe) {
    FUZZ_CHECK(o.ip == addr::IpAddress(f.target));
  } else {
    FUZZ_CHECK(o.ip.has_value() == claim.has_value() && (!claim || o.ip == claim->ip));
  }

  FrameBytes again = rebuild(f);
  Frame g;
  FUZZ_CHECK(parseFrame(again.bytes(), g) == ParseError::kOk);
  FUZZ_CHECK(g.kind == f.kind && g.eth_src == f.eth_src && g.eth_dst == f.eth_dst);
  FUZZ_CHECK(g.vlan_tags == f.vlan_tags && g.vlan == f.vlan && g.outer_vlan == f.outer_vlan);
  FUZZ_CHECK(g.arp_op == f.arp_op && g.sender_mac == f.sender_mac && g.sender_ip == f.sender_ip);
  FUZZ_CHECK(g.target_mac == f.target_mac && g.target_ip == f.target_ip);
  FUZZ_CHECK(g.ip_src == f.ip_src && g.ip_dst == f.ip_dst && g.target == f.target);
  FUZZ_CHECK(g.has_link_addr == f.has_link_addr && g.link_addr == f.link_addr);
  FUZZ_CHECK(g.na_flags == f.na_flags);
  return 0;
}
