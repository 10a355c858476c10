// The DHCPv4 codec: what real clients send parses, replies round-trip, and every malformed
// shape is refused with its reason (never a read past the input: the fuzz target checks that
// under ASan).
#include "dhcp/packet.h"

#include <gtest/gtest.h>

#include <random>

namespace netledger::dhcp {
namespace {

Packet discover() {
  Packet p;
  p.xid = 0x12345678;
  p.flags = kBroadcastFlag;
  const std::uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::copy(std::begin(mac), std::end(mac), p.chaddr.begin());
  p.setByte(opt::kMessageType, static_cast<std::uint8_t>(MessageType::kDiscover));
  const std::uint8_t params[] = {1, 3, 6, 15, 28, 42};
  p.set(opt::kParameterList, params);
  p.setU16(opt::kMaxMessageSize, 1500);
  return p;
}

std::vector<std::uint8_t> wire(const Packet& p) { return serialize(p, 1500); }

TEST(DhcpPacketTest, ARequestRoundTrips) {
  Packet in = discover(), out;
  auto bytes = wire(in);
  EXPECT_EQ(bytes.size(), kBootpMinimum);  // padded like BOOTP wants
  ASSERT_EQ(parse(bytes, out), ParseError::kNone);
  EXPECT_EQ(out.xid, 0x12345678u);
  EXPECT_TRUE(out.broadcast());
  EXPECT_EQ(out.messageType(), MessageType::kDiscover);
  EXPECT_EQ(out.mac()->toString(), "52:54:00:12:34:56");
  EXPECT_EQ(out.u16(opt::kMaxMessageSize), 1500);
  ASSERT_NE(out.find(opt::kParameterList), nullptr);
  EXPECT_EQ(out.find(opt::kParameterList)->data.size(), 6u);
}

TEST(DhcpPacketTest, RefusesEachMalformedShapeWithItsReason) {
  Packet p;
  auto bytes = wire(discover());
  EXPECT_EQ(parse(std::span(bytes).first(kMinPacket - 1), p), ParseError::kTruncated);
  std::vector<std::uint8_t> huge(kMaxPacket + 1, 0);
  EXPECT_EQ(parse(huge, p), ParseError::kOversized);
  auto magic = bytes;
  magic[kFixedSize] = 0;
  EXPECT_EQ(parse(magic, p), ParseError::kBadMagic);
  // An option whose length runs past the packet.
  std::vector<std::uint8_t> overrun(bytes.begin(), bytes.begin() + kMinPacket);
  overrun.insert(overrun.end(), {opt::kHostName, 40, 'a', 'b'});
  EXPECT_EQ(parse(overrun, p), ParseError::kOptionOverrun);
  // A code with no length byte at the very end.
  std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + kMinPacket);
  cut.push_back(opt::kHostName);
  EXPECT_EQ(parse(cut, p), ParseError::kOptionOverrun);
  Packet bad = discover();
  bad.setByte(opt::kOverload, 7);
  EXPECT_EQ(parse(wire(bad), p), ParseError::kBadOverload);
}

TEST(DhcpPacketTest, OverloadedFieldsAreReadOnceAndJoined) {
  Packet in = discover(), out;
  in.setByte(opt::kOverload, 3);
  auto bytes = wire(in);
  // `file` carries the host name, `sname` the rest of it plus a nested overload option that
  // must not make the parser read anything again.
  const std::uint8_t file[] = {opt::kHostName, 3, 'v', 'm', '-', opt::kEnd};
  const std::uint8_t sname[] = {opt::kHostName, 1, '7', opt::kOverload, 1, 3, opt::kEnd};
  std::copy(std::begin(file), std::end(file), bytes.begin() + 108);
  std::copy(std::begin(sname), std::end(sname), bytes.begin() + 44);
  ASSERT_EQ(parse(bytes, out), ParseError::kNone);
  const Option* host = out.find(opt::kHostName);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(std::string(host->data.begin(), host->data.end()), "vm-7");
}

TEST(DhcpPacketTest, LongOptionsAreSplitAndJoinedAgain) {
  Packet in = discover(), out;
  std::vector<std::uint8_t> relay(600);
  for (std::size_t i = 0; i < relay.size(); ++i) relay[i] = static_cast<std::uint8_t>(i);
  in.set(opt::kRelayAgentInfo, relay);
  ASSERT_EQ(parse(serialize(in, 1500), out), ParseError::kNone);
  ASSERT_NE(out.find(opt::kRelayAgentInfo), nullptr);
  EXPECT_EQ(out.find(opt::kRelayAgentInfo)->data, relay);
}

TEST(DhcpPacketTest, TheMaximumMessageSizeDropsTheLastOptionsFirst) {
  Packet in = discover(), out;
  in.set(opt::kDomainName, std::vector<std::uint8_t>(250, 'x'));
  in.set(opt::kHostName, std::vector<std::uint8_t>(250, 'y'));
  auto bytes = serialize(in, 576);
  EXPECT_LE(bytes.size(), 548u);  // 576 is the IP datagram: 28 bytes of IP and UDP headers
  ASSERT_EQ(parse(bytes, out), ParseError::kNone);
  EXPECT_NE(out.find(opt::kDomainName), nullptr);
  EXPECT_EQ(out.find(opt::kHostName), nullptr);
  EXPECT_EQ(out.messageType(), MessageType::kDiscover);  // earlier options all kept
}

TEST(DhcpPacketTest, MalformedFixedLengthOptionsReadAsAbsent) {
  Packet p = discover();
  p.set(opt::kRequestedAddress, std::vector<std::uint8_t>{1, 2, 3});
  p.set(opt::kMessageType, std::vector<std::uint8_t>{9});
  EXPECT_FALSE(p.address(opt::kRequestedAddress));
  EXPECT_FALSE(p.messageType());
  p.htype = 6;
  EXPECT_FALSE(p.mac());
}

// Property: any packet built from random fields and options serializes to bytes that parse
// back to the same fields and options (codes 1..254, lengths 0..300).
TEST(DhcpPacketTest, RandomPacketsRoundTrip) {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 2000; ++round) {
    Packet in;
    in.op = static_cast<std::uint8_t>(rng() % 2 + 1);
    in.xid = static_cast<std::uint32_t>(rng());
    in.flags = static_cast<std::uint16_t>(rng());
    in.ciaddr = addr::Ipv4(static_cast<std::uint32_t>(rng()));
    in.giaddr = addr::Ipv4(static_cast<std::uint32_t>(rng()));
    for (auto& b : in.chaddr) b = static_cast<std::uint8_t>(rng());
    const int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      std::uint8_t code = static_cast<std::uint8_t>(rng() % 254 + 1);
      if (code == opt::kOverload) code = opt::kHostName;
      std::vector<std::uint8_t> data(rng() % 300);
      for (auto& b : data) b = static_cast<std::uint8_t>(rng());
      in.set(code, data);
    }
    Packet out;
    ASSERT_EQ(parse(serialize(in, kMaxPacket), out), ParseError::kNone) << round;
    EXPECT_EQ(out.xid, in.xid);
    EXPECT_EQ(out.flags, in.flags);
    EXPECT_EQ(out.ciaddr, in.ciaddr);
    EXPECT_EQ(out.giaddr, in.giaddr);
    EXPECT_EQ(out.chaddr, in.chaddr);
    ASSERT_EQ(out.options.size(), in.options.size()) << round;
    for (std::size_t i = 0; i < in.options.size(); ++i) {
      EXPECT_EQ(out.options[i].code, in.options[i].code);
      EXPECT_EQ(out.options[i].data, in.options[i].data);
    }
  }
}

}  // namespace
}  // namespace netledger::dhcp
