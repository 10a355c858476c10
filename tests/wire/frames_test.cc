// The ARP/NDP parser on frames written out byte by byte, the builders against those bytes and
// through the parser (round trips, also for random addresses), every truncation, garbage,
// VLAN tags, checksum and RFC 4861 validity errors.
#include "wire/frames.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

using testing_util::concat;
using testing_util::fixIcmpv6Checksum;
using testing_util::hex;
using testing_util::ip;
using testing_util::mac;
using testing_util::parseExact;
using testing_util::toVector;
using testing_util::v4;
using testing_util::v6;

const std::vector<std::uint8_t> kPad18(18, 0);

// who-has 192.0.2.1 tell 192.0.2.10 (52:54:00:12:34:56), 42 bytes + 18 padding.
std::vector<std::uint8_t> handArpRequest() {
  return concat({hex("ff ff ff ff ff ff  52 54 00 12 34 56  08 06"),
                 hex("00 01 08 00 06 04 00 01  52 54 00 12 34 56  c0 00 02 0a"
                     "00 00 00 00 00 00  c0 00 02 01"),
                 kPad18});
}

// NS from fe80::5054:ff:fe12:3456 (SLLA 52:54:00:12:34:56) for 2001:db8::1.
std::vector<std::uint8_t> handNs() {
  auto f = concat({hex("33 33 ff 00 00 01  52 54 00 12 34 56  86 dd"),
                   hex("60 00 00 00  00 20 3a ff"
                       "fe 80 00 00 00 00 00 00 50 54 00 ff fe 12 34 56"
                       "ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 01"),
                   hex("87 00 00 00  00 00 00 00"
                       "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
                       "01 01 52 54 00 12 34 56")});
  fixIcmpv6Checksum(f, 14);
  return f;
}

// Solicited NA (R=0 S=1 O=1) for 2001:db8::1 with TLLA 52:54:00:aa:bb:cc, to the asker.
std::vector<std::uint8_t> handNa() {
  auto f = concat({hex("52 54 00 12 34 56  52 54 00 aa bb cc  86 dd"),
                   hex("60 00 00 00  00 20 3a ff"
                       "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
                       "fe 80 00 00 00 00 00 00 50 54 00 ff fe 12 34 56"),
                   hex("88 00 00 00  60 00 00 00"
                       "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
                       "02 01 52 54 00 aa bb cc")});
  fixIcmpv6Checksum(f, 14);
  return f;
}

// DAD probe for 2001:db8::abcd:ef12 from 52:54:00:de:ad:01: NS from :: without SLLA.
std::vector<std::uint8_t> handDad() {
  auto f = concat({hex("33 33 ff cd ef 12  52 54 00 de ad 01  86 dd"),
                   hex("60 00 00 00  00 18 3a ff"
                       "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                       "ff 02 00 00 00 00 00 00 00 00 00 01 ff cd ef 12"),
                   hex("87 00 00 00  00 00 00 00"
                       "20 01 0d b8 00 00 00 00 00 00 00 00 ab cd ef 12")});
  fixIcmpv6Checksum(f, 14);
  return f;
}

Frame parsed(const std::vector<std::uint8_t>& bytes) {
  Frame f;
  EXPECT_EQ(parseExact(bytes, f), ParseError::kOk);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Hand-built frames

TEST(FrameParseTest, ArpRequestFromBytes) {
  Frame f = parsed(handArpRequest());
  EXPECT_EQ(f.kind, FrameKind::kArpRequest);
  EXPECT_EQ(f.eth_dst, mac("ff:ff:ff:ff:ff:ff"));
  EXPECT_EQ(f.eth_src, mac("52:54:00:12:34:56"));
  EXPECT_EQ(f.arp_op, 1);
  EXPECT_EQ(f.sender_mac, mac("52:54:00:12:34:56"));
  EXPECT_EQ(f.sender_ip, v4("192.0.2.10"));
  EXPECT_EQ(f.target_mac, addr::Mac());
  EXPECT_EQ(f.target_ip, v4("192.0.2.1"));
  EXPECT_EQ(f.vlan_tags, 0);
  auto claim = claimOf(f);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->ip, ip("192.0.2.10"));
  EXPECT_EQ(claim->mac, mac("52:54:00:12:34:56"));
}

TEST(FrameParseTest, ArpReplyProbeAndBothAnnouncementFormsFromBytes) {
  auto reply = concat({hex("52 54 00 12 34 56  52 54 00 00 00 01  08 06"),
                       hex("00 01 08 00 06 04 00 02  52 54 00 00 00 01  c0 00 02 01"
                           "52 54 00 12 34 56  c0 00 02 0a"),
                       kPad18});
  Frame r = parsed(reply);
  EXPECT_EQ(r.kind, FrameKind::kArpReply);
  EXPECT_EQ(r.sender_ip, v4("192.0.2.1"));
  EXPECT_EQ(r.target_mac, mac("52:54:00:12:34:56"));

  auto probe = concat({hex("ff ff ff ff ff ff  52 54 00 00 00 02  08 06"),
                       hex("00 01 08 00 06 04 00 01  52 54 00 00 00 02  00 00 00 00"
                           "00 00 00 00 00 00  c0 00 02 33"),
                       kPad18});
  Frame p = parsed(probe);
  EXPECT_EQ(p.kind, FrameKind::kArpProbe);
  EXPECT_EQ(p.target_ip, v4("192.0.2.51"));
  EXPECT_FALSE(claimOf(p)) << "a probe claims nothing";

  auto request_form = concat({hex("ff ff ff ff ff ff  52 54 00 00 00 03  08 06"),
                              hex("00 01 08 00 06 04 00 01  52 54 00 00 00 03  c0 00 02 07"
                                  "00 00 00 00 00 00  c0 00 02 07"),
                              kPad18});
  Frame a = parsed(request_form);
  EXPECT_EQ(a.kind, FrameKind::kArpAnnouncement);
  EXPECT_EQ(a.arp_op, 1);
  auto reply_form = concat({hex("ff ff ff ff ff ff  52 54 00 00 00 03  08 06"),
                            hex("00 01 08 00 06 04 00 02  52 54 00 00 00 03  c0 00 02 07"
                                "52 54 00 00 00 03  c0 00 02 07"),
                            kPad18});
  Frame b = parsed(reply_form);
  EXPECT_EQ(b.kind, FrameKind::kArpAnnouncement);
  EXPECT_EQ(b.arp_op, 2);
  ASSERT_TRUE(claimOf(b));
  EXPECT_EQ(claimOf(b)->ip, ip("192.0.2.7"));
}

TEST(FrameParseTest, NeighborSolicitationFromBytes) {
  Frame f = parsed(handNs());
  EXPECT_EQ(f.kind, FrameKind::kNeighborSolicitation);
  EXPECT_EQ(f.eth_dst, mac("33:33:ff:00:00:01"));
  EXPECT_EQ(f.ip_src, v6("fe80::5054:ff:fe12:3456"));
  EXPECT_EQ(f.ip_dst, v6("ff02::1:ff00:1"));
  EXPECT_EQ(f.target, v6("2001:db8::1"));
  EXPECT_TRUE(f.has_link_addr);
  EXPECT_EQ(f.link_addr, mac("52:54:00:12:34:56"));
  auto claim = claimOf(f);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->ip, ip("fe80::5054:ff:fe12:3456"));
  EXPECT_EQ(claim->mac, mac("52:54:00:12:34:56"));
}

TEST(FrameParseTest, NeighborAdvertisementFromBytes) {
  Frame f = parsed(handNa());
  EXPECT_EQ(f.kind, FrameKind::kNeighborAdvertisement);
  EXPECT_EQ(f.na_flags, kNaSolicited | kNaOverride);
  EXPECT_EQ(f.target, v6("2001:db8::1"));
  EXPECT_EQ(f.link_addr, mac("52:54:00:aa:bb:cc"));
  auto claim = claimOf(f);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->ip, ip("2001:db8::1"));
  EXPECT_EQ(claim->mac, mac("52:54:00:aa:bb:cc"));

  // Without TLLA the Ethernet source is the claimant.
  auto bare = handNa();
  bare.resize(bare.size() - 8);
  bare[14 + 5] = 0x18;
  fixIcmpv6Checksum(bare, 14);
  Frame g = parsed(bare);
  EXPECT_FALSE(g.has_link_addr);
  EXPECT_EQ(claimOf(g)->mac, mac("52:54:00:aa:bb:cc"));
}

TEST(FrameParseTest, DadProbeFromBytes) {
  Frame f = parsed(handDad());
  EXPECT_EQ(f.kind, FrameKind::kDadProbe);
  EXPECT_EQ(f.ip_src, addr::Ipv6());
  EXPECT_EQ(f.target, v6("2001:db8::abcd:ef12"));
  EXPECT_FALSE(f.has_link_addr);
  EXPECT_FALSE(claimOf(f));
  EXPECT_EQ(stationMacOf(f), mac("52:54:00:de:ad:01"));
}

TEST(FrameParseTest, OneAndTwoVlanTags) {
  auto base = handArpRequest();
  auto one = base;
  one.insert(one.begin() + 12, {0x81, 0x00, 0x20, 0x64});  // PCP 1, VLAN 100
  Frame f = parsed(one);
  EXPECT_EQ(f.kind, FrameKind::kArpRequest);
  EXPECT_EQ(f.vlan_tags, 1);
  EXPECT_EQ(f.vlan, 100);
  EXPECT_EQ(f.outer_vlan, 0);
  EXPECT_EQ(f.sender_ip, v4("192.0.2.10"));

  auto two = base;
  two.insert(two.begin() + 12, {0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x0f, 0xfe});
  Frame g = parsed(two);
  EXPECT_EQ(g.vlan_tags, 2);
  EXPECT_EQ(g.outer_vlan, 10);
  EXPECT_EQ(g.vlan, 4094);
  EXPECT_EQ(g.target_ip, v4("192.0.2.1"));

  auto ns = handNs();
  ns.insert(ns.begin() + 12, {0x91, 0x00, 0x00, 0x07, 0x81, 0x00, 0x00, 0x08});
  Frame h = parsed(ns);
  EXPECT_EQ(h.kind, FrameKind::kNeighborSolicitation);
  EXPECT_EQ(h.outer_vlan, 7);
  EXPECT_EQ(h.vlan, 8);

  auto three = two;
  three.insert(three.begin() + 12, {0x88, 0xa8, 0x00, 0x01});
  Frame x;
  EXPECT_EQ(parseExact(three, x), ParseError::kTooManyTags);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(FrameParseTest, EveryTruncationIsAnErrorAndNeverReadsPastTheSpan) {
  // ARP: the body ends at byte 42; beyond that only padding is cut.
  auto arp = handArpRequest();
  for (std::size_t n = 0; n < arp.size(); ++n) {
    std::vector<std::uint8_t> cut(arp.begin(), arp.begin() + static_cast<std::ptrdiff_t>(n));
    Frame f;
    ParseError e = parseExact(cut, f);
    if (n < 42) {
      EXPECT_EQ(e, ParseError::kTruncated) << n;
    } else {
      EXPECT_EQ(e, ParseError::kOk) << n;
    }
  }
  // NDP: the IPv6 payload length is authoritative; every shorter frame is truncated.
  for (const auto& full : {handNs(), handNa(), handDad()}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      Frame f;
      EXPECT_EQ(parseExact(cut, f), ParseError::kTruncated) << n;
    }
  }
}

TEST(FrameParseTest, ArpHeaderErrors) {
  struct Case {
    std::size_t offset;
    std::vector<std::uint8_t> bytes;
    ParseError expected;
  };
  for (const Case& c :
       {Case{14, {0x00, 0x06}, ParseError::kUnsupportedHardware},
        Case{16, {0x86, 0xdd}, ParseError::kUnsupportedProtocol},
        Case{18, {0x08}, ParseError::kBadLength}, Case{19, {0x10}, ParseError::kBadLength},
        Case{20, {0x00, 0x03}, ParseError::kBadOpcode},
        Case{20, {0x00, 0x00}, ParseError::kBadOpcode}}) {
    auto f = handArpRequest();
    std::copy(c.bytes.begin(), c.bytes.end(), f.begin() + static_cast<std::ptrdiff_t>(c.offset));
    Frame out;
    EXPECT_EQ(parseExact(f, out), c.expected) << c.offset;
  }
}

TEST(FrameParseTest, ReplyFromZeroAddressIsNoAnnouncementAndClaimsNothing) {
  // Found by the fuzzer: sender IP == target IP == 0.0.0.0 in a reply.
  auto f = concat({hex("ff ff ff ff ff ff  52 54 00 ab cd ef  08 06"),
                   hex("00 01 08 00 06 04 00 02  52 54 00 ab cd ef  00 00 00 00"
                       "00 00 00 00 00 00  00 00 00 00"),
                   kPad18});
  Frame r = parsed(f);
  EXPECT_EQ(r.kind, FrameKind::kArpReply);
  EXPECT_FALSE(claimOf(r));
}

TEST(FrameParseTest, OtherTrafficIsNotArpOrNdp) {
  Frame out;
  auto ipv4 = concat(
      {hex("52 54 00 00 00 01 52 54 00 00 00 02 08 00"), std::vector<std::uint8_t>(46, 0x45)});
  EXPECT_EQ(parseExact(ipv4, out), ParseError::kNotArpOrNdp);
  // ICMPv6 echo request and IPv6 UDP.
  auto echo = handNs();
  echo[54] = 128;
  EXPECT_EQ(parseExact(echo, out), ParseError::kNotArpOrNdp);
  auto udp = handNs();
  udp[20] = 17;
  EXPECT_EQ(parseExact(udp, out), ParseError::kNotArpOrNdp);
  // Router Advertisement: ICMPv6 but not NS/NA.
  auto ra = handNs();
  ra[54] = 134;
  EXPECT_EQ(parseExact(ra, out), ParseError::kNotArpOrNdp);
}

TEST(FrameParseTest, ChecksumErrorsOnEveryCoveredByte) {
  for (const auto& good : {handNs(), handNa(), handDad()}) {
    // Source and destination (pseudo-header), checksum, reserved/flags, target, options.
    for (std::size_t i = 22; i < good.size(); ++i) {
      if (i == 54 || i == 55) continue;  // type and code have their own errors
      auto bad = good;
      bad[i] ^= 0x01;
      Frame out;
      // The checksum is verified before addresses and options are judged, and one flipped
      // bit always changes a one's-complement sum.
      EXPECT_EQ(parseExact(bad, out), ParseError::kBadChecksum) << "byte " << i;
    }
  }
}

TEST(FrameParseTest, Rfc4861ValidityChecks) {
  Frame out;
  auto hop = handNs();
  hop[21] = 254;
  fixIcmpv6Checksum(hop, 14);
  EXPECT_EQ(parseExact(hop, out), ParseError::kBadHopLimit);

  auto code = handNs();
  code[55] = 1;
  fixIcmpv6Checksum(code, 14);
  EXPECT_EQ(parseExact(code, out), ParseError::kBadCode);

  auto version = handNs();
  version[14] = 0x40;
  EXPECT_EQ(parseExact(version, out), ParseError::kBadVersion);

  auto short_icmp = handDad();  // payload length 16 < 24
  short_icmp[19] = 16;
  short_icmp.resize(short_icmp.size() - 8);
  fixIcmpv6Checksum(short_icmp, 14);
  EXPECT_EQ(parseExact(short_icmp, out), ParseError::kBadLength);

  auto zero_option = handNs();
  zero_option[79] = 0;  // option length 0
  fixIcmpv6Checksum(zero_option, 14);
  EXPECT_EQ(parseExact(zero_option, out), ParseError::kBadOption);

  auto long_option = handNs();
  long_option[79] = 2;  // 16 bytes, only 8 there
  fixIcmpv6Checksum(long_option, 14);
  EXPECT_EQ(parseExact(long_option, out), ParseError::kBadOption);

  auto multicast_target = handNs();
  multicast_target[62] = 0xff;
  fixIcmpv6Checksum(multicast_target, 14);
  EXPECT_EQ(parseExact(multicast_target, out), ParseError::kBadAddress);

  auto dad_unicast = handDad();  // DAD must go to a solicited-node group
  dad_unicast[38 + 11] = 0x00;
  fixIcmpv6Checksum(dad_unicast, 14);
  EXPECT_EQ(parseExact(dad_unicast, out), ParseError::kBadAddress);

  auto dad_slla = concat({handDad(), hex("01 01 52 54 00 de ad 01")});
  dad_slla[19] = 32;
  fixIcmpv6Checksum(dad_slla, 14);
  EXPECT_EQ(parseExact(dad_slla, out), ParseError::kBadOption);

  // Solicited NA to a multicast destination.
  auto na = handNa();
  na[38] = 0xff;
  na[39] = 0x02;
  fixIcmpv6Checksum(na, 14);
  EXPECT_EQ(parseExact(na, out), ParseError::kBadAddress);
}

TEST(FrameParseTest, PaddingAfterThePayloadIsIgnored) {
  auto ns = concat({handNs(), std::vector<std::uint8_t>(30, 0xee)});
  Frame f = parsed(ns);
  EXPECT_EQ(f.kind, FrameKind::kNeighborSolicitation);
}

TEST(FrameParseTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 120);
  std::array<std::uint16_t, 5> types = {0x0806, 0x86dd, 0x8100, 0x88a8, 0x0800};
  std::set<ParseError> seen;
  for (int i = 0; i < 200'000; ++i) {
    std::vector<std::uint8_t> f(length(rng));
    for (auto& b : f) b = static_cast<std::uint8_t>(byte(rng));
    // Steer most frames into the ARP/IPv6 paths, where the interesting checks are.
    if (f.size() >= 14 && i % 4 != 0) {
      std::uint16_t t = types[static_cast<std::size_t>(i) % types.size()];
      f[12] = static_cast<std::uint8_t>(t >> 8);
      f[13] = static_cast<std::uint8_t>(t);
      if (t == 0x86dd && f.size() > 55) {
        f[14] = 0x60;
        f[18] = 0;
        f[19] = static_cast<std::uint8_t>(f.size() - 54 - static_cast<std::size_t>(i % 3));
        f[20] = 58;
        f[21] = 255;
        f[54] = i % 2 ? 135 : 136;
        f[55] = 0;
      }
      if (t == 0x0806 && f.size() > 21) {
        f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
      }
    }
    Frame out;
    seen.insert(parseExact(f, out));
  }
  // The random walk reaches deep into the parser, not only the first check.
  EXPECT_TRUE(seen.count(ParseError::kBadChecksum));
  EXPECT_TRUE(seen.count(ParseError::kBadOpcode));
  EXPECT_TRUE(seen.count(ParseError::kTruncated));
}

// ---------------------------------------------------------------------------------------------
// Builders

TEST(FrameBuildTest, BuildersWriteTheHandBuiltBytes) {
  EXPECT_EQ(toVector(buildArpRequest(mac("52:54:00:12:34:56"), v4("192.0.2.10"), v4("192.0.2.1"))),
            handArpRequest());
  EXPECT_EQ(toVector(buildNeighborSolicitation(mac("52:54:00:12:34:56"),
                                               v6("fe80::5054:ff:fe12:3456"), v6("2001:db8::1"))),
            handNs());
  EXPECT_EQ(toVector(buildDadProbe(mac("52:54:00:de:ad:01"), v6("2001:db8::abcd:ef12"))),
            handDad());
  EXPECT_EQ(toVector(buildNeighborAdvertisement(
                mac("52:54:00:aa:bb:cc"), v6("2001:db8::1"), kNaSolicited | kNaOverride,
                NeighborAddress{mac("52:54:00:12:34:56"), v6("fe80::5054:ff:fe12:3456")})),
            handNa());
}

TEST(FrameBuildTest, MinimumEthernetPaddingAndSizes) {
  auto m = mac("02:00:00:00:00:01");
  EXPECT_EQ(buildArpProbe(m, v4("192.0.2.1")).size, 60u);
  EXPECT_EQ(buildArpRequest(m, v4("192.0.2.2"), v4("192.0.2.1"), 5).size, 60u);
  EXPECT_EQ(buildDadProbe(m, v6("2001:db8::1")).size, 78u);
  EXPECT_EQ(buildNeighborSolicitation(m, v6("2001:db8::2"), v6("2001:db8::1")).size, 86u);
  EXPECT_EQ(buildNeighborAdvertisement(m, v6("2001:db8::2"), kNaOverride, {}, 7).size, 90u);
  // Padding bytes are zero.
  auto probe = buildArpProbe(m, v4("192.0.2.1"));
  for (std::size_t i = 42; i < 60; ++i) EXPECT_EQ(probe.data[i], 0) << i;
}

TEST(FrameBuildTest, SolicitedNodeGroupAndMulticastMac) {
  EXPECT_EQ(solicitedNodeGroup(v6("2001:db8::abcd:ef12")), v6("ff02::1:ffcd:ef12"));
  EXPECT_EQ(solicitedNodeGroup(v6("fe80::5054:ff:fe12:3456")), v6("ff02::1:ff12:3456"));
  EXPECT_EQ(multicastMac(v6("ff02::1:ffcd:ef12")), mac("33:33:ff:cd:ef:12"));
  EXPECT_EQ(multicastMac(v6("ff02::1")), mac("33:33:00:00:00:01"));
}

TEST(FrameBuildTest, UnsolicitedAdvertisementGoesToAllNodes) {
  Frame f;
  auto na = buildNeighborAdvertisement(mac("02:00:00:00:00:09"), v6("2001:db8::9"),
                                       kNaOverride | kNaRouter);
  ASSERT_EQ(parseFrame(na.bytes(), f), ParseError::kOk);
  EXPECT_EQ(f.ip_dst, v6("ff02::1"));
  EXPECT_EQ(f.eth_dst, mac("33:33:00:00:00:01"));
  EXPECT_EQ(f.na_flags, kNaOverride | kNaRouter);
  EXPECT_EQ(f.ip_src, v6("2001:db8::9"));
}

// Random unicast MAC with the locally administered bit set, like a VM's.
addr::Mac randomMac(std::mt19937_64& rng) {
  return addr::Mac((rng() & addr::Mac::kMask & ~(std::uint64_t{1} << 40)) |
                   (std::uint64_t{2} << 40));
}

TEST(FrameBuildTest, PropertyRandomAddressesRoundTrip) {
  std::mt19937_64 rng(4242);
  for (int i = 0; i < 20'000; ++i) {
    addr::Mac a = randomMac(rng), b = randomMac(rng);
    addr::Ipv4 x(static_cast<std::uint32_t>(rng()) | 1), y(static_cast<std::uint32_t>(rng()) | 2);
    addr::Ipv6 p((addr::uint128{rng() & ~(std::uint64_t{0xff} << 56)} << 64) | rng());
    addr::Ipv6 q((addr::uint128{0xfe80ull << 48} << 64) | rng());
    Vlan vlan;
    if (i % 3 == 1) vlan = static_cast<std::uint16_t>(1 + rng() % 4094);
    std::uint8_t flags = static_cast<std::uint8_t>(rng() & (kNaRouter | kNaOverride));
    SCOPED_TRACE(a.toString() + " " + x.toString() + " " + p.toString());
    Frame f;

    ASSERT_EQ(parseFrame(buildArpRequest(a, x, y, vlan).bytes(), f), ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kArpRequest);
    EXPECT_EQ(f.sender_mac, a);
    EXPECT_EQ(f.sender_ip, x);
    EXPECT_EQ(f.target_ip, y);
    EXPECT_EQ(f.vlan, vlan.value_or(0));
    EXPECT_EQ(f.vlan_tags, vlan ? 1 : 0);

    ASSERT_EQ(parseFrame(buildArpReply(a, x, b, y, vlan).bytes(), f), ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kArpReply);
    EXPECT_EQ(f.eth_dst, b);
    EXPECT_EQ(f.target_mac, b);

    ASSERT_EQ(parseFrame(buildArpProbe(a, y, vlan).bytes(), f), ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kArpProbe);
    EXPECT_EQ(f.sender_ip, addr::Ipv4());
    EXPECT_EQ(f.target_ip, y);

    for (auto form : {AnnouncementForm::kRequest, AnnouncementForm::kReply}) {
      ASSERT_EQ(parseFrame(buildArpAnnouncement(a, x, form, vlan).bytes(), f), ParseError::kOk);
      EXPECT_EQ(f.kind, FrameKind::kArpAnnouncement);
      EXPECT_EQ(f.arp_op, form == AnnouncementForm::kReply ? 2 : 1);
      EXPECT_EQ(f.sender_ip, x);
      EXPECT_EQ(f.target_ip, x);
      EXPECT_EQ(f.eth_dst, addr::Mac(addr::Mac::kMask));
    }

    ASSERT_EQ(parseFrame(buildNeighborSolicitation(a, q, p, vlan).bytes(), f), ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kNeighborSolicitation);
    EXPECT_EQ(f.ip_src, q);
    EXPECT_EQ(f.target, p);
    EXPECT_EQ(f.ip_dst, solicitedNodeGroup(p));
    EXPECT_EQ(f.eth_dst, multicastMac(solicitedNodeGroup(p)));
    EXPECT_EQ(f.link_addr, a);

    ASSERT_EQ(parseFrame(buildDadProbe(b, p, vlan).bytes(), f), ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kDadProbe);
    EXPECT_EQ(f.eth_src, b);
    EXPECT_EQ(f.target, p);

    ASSERT_EQ(
        parseFrame(buildNeighborAdvertisement(b, p, flags, NeighborAddress{a, q}, vlan).bytes(), f),
        ParseError::kOk);
    EXPECT_EQ(f.kind, FrameKind::kNeighborAdvertisement);
    EXPECT_EQ(f.na_flags, flags);
    EXPECT_EQ(f.link_addr, b);
    EXPECT_EQ(f.ip_dst, q);
    EXPECT_EQ(f.eth_dst, a);
  }
}

TEST(FrameBuildTest, QinQFieldsRoundTrip) {
  ArpFields a;
  a.op = 2;
  a.eth_src = mac("02:00:00:00:00:01");
  a.eth_dst = mac("02:00:00:00:00:02");
  a.sender_mac = mac("02:00:00:00:00:03");  // differs from the Ethernet source on purpose
  a.sender_ip = v4("198.51.100.1");
  a.target_mac = mac("02:00:00:00:00:02");
  a.target_ip = v4("198.51.100.2");
  a.vlan = 300;
  a.outer_vlan = 20;
  Frame f;
  ASSERT_EQ(parseFrame(buildArp(a).bytes(), f), ParseError::kOk);
  EXPECT_EQ(f.vlan_tags, 2);
  EXPECT_EQ(f.vlan, 300);
  EXPECT_EQ(f.outer_vlan, 20);
  EXPECT_EQ(f.eth_src, a.eth_src);
  EXPECT_EQ(f.sender_mac, a.sender_mac);
  EXPECT_EQ(stationMacOf(f), a.sender_mac);
}

TEST(FrameNamesTest, EveryKindAndErrorHasADistinctName) {
  std::set<std::string_view> names;
  for (int k = 0; k < kFrameKindCount; ++k) {
    names.insert(frameKindName(static_cast<FrameKind>(k)));
  }
  EXPECT_EQ(names, (std::set<std::string_view>{"request", "reply", "probe", "announcement", "ns",
                                               "na", "dad"}));
  std::set<std::string_view> errors;
  for (int e = 0; e < kParseErrorCount; ++e) {
    auto name = parseErrorName(static_cast<ParseError>(e));
    EXPECT_NE(name, "unknown");
    errors.insert(name);
  }
  EXPECT_EQ(errors.size(), static_cast<std::size_t>(kParseErrorCount));
}

}  // namespace
}  // namespace netledger::wire
