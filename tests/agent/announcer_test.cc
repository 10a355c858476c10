#include "agent/announcer.h"

#include <gtest/gtest.h>

#include "fake_link.h"

namespace netledger::agent {
namespace {

const addr::Mac kOwn = *addr::Mac::parse("02:00:00:00:00:aa");
const addr::Mac kVm = *addr::Mac::parse("52:54:00:12:34:56");

TEST(AnnouncerTest, GratuitousArpInBothForms) {
  for (auto form : {wire::AnnouncementForm::kRequest, wire::AnnouncementForm::kReply}) {
    auto bytes = buildGratuitousArp(kOwn, kVm, *addr::Ipv4::parse("192.0.2.70"), form);
    wire::Frame f;
    ASSERT_EQ(wire::parseFrame(bytes.bytes(), f), wire::ParseError::kOk);
    EXPECT_EQ(f.kind, wire::FrameKind::kArpAnnouncement);
    EXPECT_EQ(f.arp_op, form == wire::AnnouncementForm::kRequest ? 1 : 2);
    EXPECT_EQ(f.eth_src, kOwn);  // the bridge keeps learning the VM on its own port
    EXPECT_TRUE(f.eth_dst.isBroadcast());
    EXPECT_EQ(f.sender_mac, kVm);
    EXPECT_EQ(f.sender_ip, f.target_ip);
    if (form == wire::AnnouncementForm::kReply) {
      EXPECT_EQ(f.target_mac, kVm);
    }
    auto claim = wire::claimOf(f);
    ASSERT_TRUE(claim);
    EXPECT_EQ(claim->mac, kVm);
  }
}

TEST(AnnouncerTest, UnsolicitedNaWithOverride) {
  auto bytes = buildUnsolicitedNa(kOwn, kVm, *addr::Ipv6::parse("2001:db8::70"));
  wire::Frame f;
  ASSERT_EQ(wire::parseFrame(bytes.bytes(), f), wire::ParseError::kOk);  // checksum verified
  EXPECT_EQ(f.kind, wire::FrameKind::kNeighborAdvertisement);
  EXPECT_EQ(f.na_flags & wire::kNaOverride, wire::kNaOverride);
  EXPECT_EQ(f.na_flags & wire::kNaSolicited, 0);
  EXPECT_EQ(f.ip_dst, *addr::Ipv6::parse("ff02::1"));
  EXPECT_TRUE(f.has_link_addr);
  EXPECT_EQ(f.link_addr, kVm);
  EXPECT_EQ(f.eth_src, kOwn);
}

TEST(AnnouncerTest, RoundsCoverEveryAddress) {
  testing::FakeLink link(kOwn);
  AnnounceJob job{
      7, kVm, {*addr::IpAddress::parse("192.0.2.70"), *addr::IpAddress::parse("2001:db8::70")}};
  std::atomic<bool> stop{false};
  int sent = announce(link, job, 3, Millis(5), stop);
  EXPECT_EQ(sent, 9);  // 3 rounds x (2 ARP forms + 1 NA)
  auto frames = link.sentFrames();
  ASSERT_EQ(frames.size(), 9u);
  int arp = 0, na = 0;
  for (const auto& f : frames) {
    arp += f.kind == wire::FrameKind::kArpAnnouncement;
    na += f.kind == wire::FrameKind::kNeighborAdvertisement;
  }
  EXPECT_EQ(arp, 6);
  EXPECT_EQ(na, 3);
}

}  // namespace
}  // namespace netledger::agent
