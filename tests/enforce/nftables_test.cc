// The rendered table on a real kernel: each test moves this process into a network namespace of
// its own (unshare, so nothing outside it is touched, and it vanishes with the process), builds a
// bridge with three veth ports there, loads the table through libnftables and sends real frames
// into the ports: what must pass reaches the other port, what must not is dropped and counted.
// Needs root (CAP_NET_ADMIN); ctest runs each test in its own process.
#include "enforce/nftables.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "addr/addr_test_util.h"
#include "enforce/drop_log.h"
#include "enforce/ruleset.h"
#include "wire/frames.h"

namespace netledger::enforce {
namespace {

using addr::testing_util::ip;
using addr::testing_util::mac;
using Bytes = std::vector<std::uint8_t>;

const addr::Mac kMac1 = mac("02:00:00:00:00:01");
const addr::Mac kMac2 = mac("02:00:00:00:00:02");
const addr::Mac kMac3 = mac("02:00:00:00:00:03");
const addr::Mac kNewStation = mac("02:00:00:00:00:09");

Bytes toBytes(const wire::FrameBytes& f) { return Bytes(f.bytes().begin(), f.bytes().end()); }

// Ethernet (broadcast) + IPv4 + UDP with a valid header checksum and a marker payload.
Bytes udpFrame(addr::Mac src_mac, addr::Ipv4 src, std::uint16_t sport, std::uint16_t dport) {
  Bytes f(14 + 20 + 8 + 8, 0);
  std::memset(f.data(), 0xff, 6);
  for (int i = 0; i < 6; ++i) f[6 + i] = static_cast<std::uint8_t>(src_mac.value() >> (40 - 8 * i));
  f[12] = 0x08;
  std::uint8_t* iph = f.data() + 14;
  iph[0] = 0x45;
  iph[3] = 36;  // total length: 20 + 8 + 8
  iph[8] = 64;
  iph[9] = 17;
  std::uint32_t s = src.value();
  for (int i = 0; i < 4; ++i) iph[12 + i] = static_cast<std::uint8_t>(s >> (24 - 8 * i));
  std::memset(iph + 16, 0xff, 4);
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (iph[i] << 8) | iph[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  iph[10] = static_cast<std::uint8_t>(~sum >> 8);
  iph[11] = static_cast<std::uint8_t>(~sum);
  std::uint8_t* udp = iph + 20;
  udp[0] = sport >> 8, udp[1] = sport & 0xff, udp[2] = dport >> 8, udp[3] = dport & 0xff;
  udp[5] = 16;
  std::memcpy(udp + 8, "nl-mark!", 8);
  return f;
}

void sh(const std::string& cmd) {
  ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
}

// One bridge `br0` with ports p1..p3, whose veth peers a1..a3 are the stations' ends.
class EnforceLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a private network namespace)";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    sh("sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
    sh("ip link add br0 type bridge");
    for (int i = 1; i <= 3; ++i) {
      std::string n = std::to_string(i);
      sh("ip link add a" + n + " address 02:00:00:00:00:0" + n + " type veth peer name p" + n);
      sh("ip link set p" + n + " master br0 up && ip link set a" + n + " up");
    }
    sh("ip link set br0 up");
    for (int i = 0; i < 3; ++i) ends_[i] = openEnd("a" + std::to_string(i + 1));
    auto nft = Nftables::open();
    ASSERT_TRUE(nft.isOk()) << nft.status().message();
    nft_ = std::move(*nft);
  }
  void TearDown() override {
    for (int fd : ends_)
      if (fd >= 0) close(fd);
  }

  static int openEnd(const std::string& name) {
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)), 0) << name;
    return fd;
  }

  // Sends `frame` from station `from` (1..3); true when station `to` receives it.
  bool delivered(int from, int to, const Bytes& frame) {
    drain(to);
    EXPECT_EQ(send(ends_[from - 1], frame.data(), frame.size(), 0),
              static_cast<ssize_t>(frame.size()));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    std::uint8_t buf[2048];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{ends_[to - 1], POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(ends_[to - 1], buf, sizeof(buf), 0);
      if (n >= static_cast<ssize_t>(frame.size()) &&
          std::memcmp(buf, frame.data(), frame.size()) == 0)
        return true;
    }
    return false;
  }
  void drain(int station) {
    std::uint8_t buf[2048];
    while (recv(ends_[station - 1], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
  }

  void load(EnforceMode mode, std::vector<std::string> guarded = {"p1", "p2", "p3"}) {
    RulesetSpec spec;
    spec.mode = mode;
    spec.guarded_ports = std::move(guarded);
    spec.bindings.push_back({"p1", kMac1, {ip("192.0.2.1"), ip("2001:db8::1")}});
    spec.bindings.push_back({"p2", kMac2, {ip("192.0.2.2")}});
    auto script = renderRuleset(spec);
    ASSERT_TRUE(script.isOk()) << script.status().message();
    Status s = nft_->run(*script);
    ASSERT_TRUE(s.isOk()) << s.message();
  }
  std::uint64_t dropped(DropClass c) {
    auto counts = nft_->dropCounts();
    EXPECT_TRUE(counts.isOk()) << counts.status().message();
    return counts.isOk() ? (*counts)[std::string(dropClassName(c))] : 0;
  }

  int ends_[3] = {-1, -1, -1};
  std::unique_ptr<Nftables> nft_;
};

// Every bridge port p1..p3 guarded in `mode`, no binding yet.
RulesetSpec threePorts(EnforceMode mode) {
  RulesetSpec spec;
  spec.mode = mode;
  spec.guarded_ports = {"p1", "p2", "p3"};
  return spec;
}

const addr::Ipv4 kIp1 = ip("192.0.2.1").v4();
const addr::Ipv4 kIp2 = ip("192.0.2.2").v4();
const addr::Ipv6 kIp6 = ip("2001:db8::1").v6();

TEST_F(EnforceLab, OwnersSpeakAndThievesAreDroppedAndCounted) {
  load(EnforceMode::kEnforce);
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
  EXPECT_TRUE(delivered(1, 2, udpFrame(kMac1, kIp1, 4000, 4001)));
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildNeighborAdvertisement(kMac1, kIp6, 0))));
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildArpProbe(kMac1, kIp2))));

  // Station 3 has no binding: its own MAC is unknown behind p3, and claims of the others fail.
  EXPECT_FALSE(delivered(3, 2, toBytes(wire::buildArpAnnouncement(kMac3, kIp1))));
  EXPECT_EQ(dropped(DropClass::kMacSpoof), 1u);
  // Station 2 (bound) claims station 1's address with its own MAC: ARP, IPv4, NDP.
  EXPECT_FALSE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, kIp1))));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 1u);
  EXPECT_FALSE(delivered(2, 1, udpFrame(kMac2, kIp1, 4000, 4001)));
  EXPECT_EQ(dropped(DropClass::kIpv4Spoof), 1u);
  EXPECT_FALSE(delivered(2, 1, toBytes(wire::buildNeighborAdvertisement(kMac2, kIp6, 0))));
  EXPECT_EQ(dropped(DropClass::kNdSpoof), 1u);
  // Station 2 answers DHCP as a server: only trusted ports may.
  EXPECT_FALSE(delivered(2, 1, udpFrame(kMac2, kIp2, 67, 68)));
  EXPECT_EQ(dropped(DropClass::kRogueDhcp), 1u);
  // Station 1's MAC sent from port 3.
  EXPECT_FALSE(delivered(3, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
  EXPECT_EQ(dropped(DropClass::kMacSpoof), 2u);
}

TEST_F(EnforceLab, ANewStationMayAskForAnAddressButNotWithABoundMac) {
  load(EnforceMode::kEnforce);
  EXPECT_TRUE(delivered(3, 2, udpFrame(kNewStation, addr::Ipv4(0), 68, 67)));
  EXPECT_FALSE(delivered(3, 2, udpFrame(kNewStation, addr::Ipv4(0), 68, 80)));
  EXPECT_EQ(dropped(DropClass::kMacSpoof), 1u);
  // Station 1's MAC asking from port 3 would move that MAC to port 3 in the bridge's table.
  EXPECT_FALSE(delivered(3, 2, udpFrame(kMac1, addr::Ipv4(0), 68, 67)));
  EXPECT_EQ(dropped(DropClass::kMacSpoof), 2u);
  // Its owner asking again from 0.0.0.0 (INIT-REBOOT) passes.
  EXPECT_TRUE(delivered(1, 2, udpFrame(kMac1, addr::Ipv4(0), 68, 67)));
}

TEST_F(EnforceLab, TaggedAndOtherEthertypesFromAGuardedPortAreDropped) {
  load(EnforceMode::kEnforce);
  EXPECT_FALSE(delivered(
      1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1, wire::AnnouncementForm::kRequest, 5))));
  EXPECT_EQ(dropped(DropClass::kEthertype), 1u);
  Bytes lldp(60, 0);  // 802.1AB from station 1's own MAC
  std::memset(lldp.data(), 0x01, 6);
  for (int i = 0; i < 6; ++i)
    lldp[6 + i] = static_cast<std::uint8_t>(kMac1.value() >> (40 - 8 * i));
  lldp[12] = 0x88, lldp[13] = 0xcc;
  EXPECT_FALSE(delivered(1, 2, lldp));
  EXPECT_EQ(dropped(DropClass::kEthertype), 2u);
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
}

TEST_F(EnforceLab, ABoundStationCannotSendAsADhcpServerOrFromAnotherIpv6Address) {
  load(EnforceMode::kEnforce);
  EXPECT_FALSE(delivered(2, 1, udpFrame(kMac2, kIp2, 4000, 68)));  // an offer from a high port
  EXPECT_EQ(dropped(DropClass::kRogueDhcp), 1u);
  // Station 2 solicits from station 1's global IPv6 address.
  EXPECT_FALSE(delivered(
      2, 1, toBytes(wire::buildNeighborSolicitation(kMac2, kIp6, ip("2001:db8::99").v6()))));
  EXPECT_EQ(dropped(DropClass::kIpv6Spoof), 1u);
}

TEST_F(EnforceLab, MonitorCountsButDropsNothing) {
  load(EnforceMode::kMonitor);
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, kIp1))));
  EXPECT_TRUE(delivered(2, 1, udpFrame(kMac2, kIp1, 4000, 4001)));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 1u);
  EXPECT_EQ(dropped(DropClass::kIpv4Spoof), 1u);
}

TEST_F(EnforceLab, ATrustedPortIsNotGuarded) {
  load(EnforceMode::kEnforce, {"p1", "p2"});  // p3: the router's port
  EXPECT_TRUE(delivered(3, 1, udpFrame(kMac3, ip("192.0.2.254").v4(), 67, 68)));
  EXPECT_EQ(dropped(DropClass::kRogueDhcp), 0u);
}

TEST_F(EnforceLab, AScriptThatFailsLeavesTheLastGoodTable) {
  load(EnforceMode::kEnforce);
  RulesetSpec moved = threePorts(EnforceMode::kEnforce);
  moved.bindings.push_back({"p2", kMac2, {ip("192.0.2.1")}});  // .1 moved to station 2
  Status s = nft_->run(renderRuleset(moved).value() + "add rule bridge netledger guard bogus\n");
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(s.message().empty());
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
  EXPECT_FALSE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, kIp1))));
  // The same change whole: the move is in force at once.
  ASSERT_TRUE(nft_->run(renderRuleset(moved).value()).isOk());
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, kIp1))));
  EXPECT_FALSE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
}

// The spoofing the snooper cannot see (IP sources, unknown MACs) comes back through NFLOG: the
// class, the port, the frame's MAC and source address.
TEST_F(EnforceLab, DroppedSpoofsAreLoggedWithTheirEvidence) {
  auto log = DropLog::open(7421);
  ASSERT_TRUE(log.isOk()) << log.status().message();
  RulesetSpec spec = threePorts(EnforceMode::kEnforce);
  spec.log_group = 7421;
  spec.bindings.push_back({"p1", kMac1, {ip("192.0.2.1")}});
  spec.bindings.push_back({"p2", kMac2, {ip("192.0.2.2")}});
  ASSERT_TRUE(nft_->run(renderRuleset(spec).value()).isOk());
  EXPECT_FALSE(delivered(2, 1, udpFrame(kMac2, kIp1, 4000, 4001)));  // station 2 as station 1
  EXPECT_FALSE(delivered(3, 1, udpFrame(kMac3, ip("192.0.2.3").v4(), 4000, 4001)));
  EXPECT_TRUE(delivered(1, 2, udpFrame(kMac1, kIp1, 4000, 4001)));  // not logged
  std::vector<LoggedDrop> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{(*log)->fd(), POLLIN, 0};
    if (poll(&p, 1, 100) > 0) (*log)->read([&](const LoggedDrop& d) { got.push_back(d); });
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].cls, DropClass::kIpv4Spoof);
  EXPECT_EQ(got[0].interface, "p2");
  EXPECT_EQ(got[0].mac, kMac2);
  EXPECT_EQ(got[0].ip, ip("192.0.2.1"));
  EXPECT_EQ(got[1].cls, DropClass::kMacSpoof);
  EXPECT_EQ(got[1].interface, "p3");
  EXPECT_EQ(got[1].mac, kMac3);
}

// An NDP link-layer address option is what neighbours cache: it must be the sender's own MAC,
// from link-local senders too (the address checks let those pass).
TEST_F(EnforceLab, NdpLinkLayerOptionsMustBeTheSendersMac) {
  load(EnforceMode::kEnforce);
  const addr::Ipv6 ll2 = ip("fe80::2").v6();
  // Frame layout: Ethernet 14 + IPv6 40 + NS/NA 24, then the option: type, length, MAC.
  auto withOption = [](Bytes f, addr::Mac m) {
    for (int i = 0; i < 6; ++i) f[80 + i] = static_cast<std::uint8_t>(m.value() >> (40 - 8 * i));
    return f;
  };
  const Bytes ns = toBytes(wire::buildNeighborSolicitation(kMac2, ll2, kIp6));
  ASSERT_EQ(ns[78], 1);  // the SLLA option where the rules read it
  EXPECT_TRUE(delivered(2, 1, ns));
  EXPECT_FALSE(delivered(2, 1, withOption(ns, kMac1)));  // station 2 says it is station 1
  EXPECT_EQ(dropped(DropClass::kNdSpoof), 1u);
  const Bytes na = toBytes(wire::buildNeighborAdvertisement(kMac1, kIp6, 0));
  ASSERT_EQ(na[78], 2);
  EXPECT_TRUE(delivered(1, 2, na));
  EXPECT_FALSE(delivered(1, 2, withOption(na, kMac3)));
  Bytes other_first = ns;
  other_first[78] = 14;  // a nonce option first: the address cannot be read, so refused
  EXPECT_FALSE(delivered(2, 1, other_first));
  EXPECT_EQ(dropped(DropClass::kNdSpoof), 3u);
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildDadProbe(kMac2, kIp6))));  // from ::, no option
}

// Pools decide per port: p1 enforced (the default), p2 monitored, p3 off (not guarded).
TEST_F(EnforceLab, EachPortIsGuardedInItsOwnMode) {
  RulesetSpec spec;
  spec.mode = EnforceMode::kEnforce;
  spec.guarded_ports = {"p1", "p2", "p3"};
  spec.port_modes = {{"p2", EnforceMode::kMonitor}, {"p3", EnforceMode::kOff}};
  spec.bindings.push_back({"p1", kMac1, {ip("192.0.2.1")}});
  spec.bindings.push_back({"p2", kMac2, {ip("192.0.2.2")}});
  spec.bindings.push_back({"p3", kMac3, {ip("192.0.2.3")}});
  ASSERT_TRUE(nft_->run(renderRuleset(spec).value()).isOk());
  const addr::Ipv4 stolen = ip("192.0.2.9").v4();
  EXPECT_FALSE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, stolen))));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 1u);
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, stolen))));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 2u);  // monitored: counted, let through
  EXPECT_TRUE(delivered(3, 1, toBytes(wire::buildArpAnnouncement(kMac3, stolen))));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 2u);  // off: not even looked at
  EXPECT_TRUE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, kIp1))));
  // The default monitor with one pool that enforces: only that port drops.
  spec.mode = EnforceMode::kMonitor;
  spec.port_modes = {{"p1", EnforceMode::kEnforce}};
  ASSERT_TRUE(nft_->run(renderRuleset(spec).value()).isOk());
  EXPECT_FALSE(delivered(1, 2, toBytes(wire::buildArpAnnouncement(kMac1, stolen))));
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, stolen))));
  EXPECT_TRUE(delivered(3, 1, toBytes(wire::buildArpAnnouncement(kMac3, stolen))));
  EXPECT_EQ(dropped(DropClass::kArpSpoof), 3u);
}

TEST_F(EnforceLab, OffRemovesOnlyItsOwnTable) {
  ASSERT_TRUE(nft_->run("add table inet keepme\n").isOk());
  load(EnforceMode::kEnforce);
  load(EnforceMode::kOff);
  EXPECT_EQ(nft_->dropCounts().status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(delivered(2, 1, toBytes(wire::buildArpAnnouncement(kMac2, kIp1))));
  EXPECT_TRUE(nft_->run("list table inet keepme\n").isOk());
  EXPECT_TRUE(nft_->run(renderRemoval()).isOk());  // removing what is not there is fine
}

// A plain host interface (a routed tap or veth, no bridge): the same checks at its ingress, in
// `table netdev netledger`. Judged as the host judges: does it answer the station's ARP?
class HostInterfaceLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a private network namespace)";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    sh("ip link add a1 address 02:00:00:00:00:01 type veth peer name p1");
    sh("ip link set a1 up && ip link set p1 up && ip addr add 192.0.2.1/24 dev p1");
    station_ = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex("a1"));
    ASSERT_EQ(bind(station_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)), 0);
    auto nft = Nftables::open();
    ASSERT_TRUE(nft.isOk()) << nft.status().message();
    nft_ = std::move(*nft);
  }
  void TearDown() override {
    if (station_ >= 0) close(station_);
  }
  // Sends an ARP request for 192.0.2.1 from (mac, ip); true when the host answers it.
  bool answered(addr::Mac mac, const char* sender) {
    Bytes req = toBytes(wire::buildArpRequest(mac, ip(sender).v4(), ip("192.0.2.1").v4()));
    std::uint8_t buf[2048];
    while (recv(station_, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
    EXPECT_EQ(send(station_, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{station_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(station_, buf, sizeof(buf), 0);
      // An ARP reply (op 2) from 192.0.2.1.
      if (n >= 42 && buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 2 && buf[28] == 192 &&
          buf[31] == 1)
        return true;
    }
    return false;
  }

  int station_ = -1;
  std::unique_ptr<Nftables> nft_;
};

TEST_F(HostInterfaceLab, OnlyTheBindingsPairSpeaksOnAPlainInterface) {
  EXPECT_TRUE(answered(kMac1, "192.0.2.99"));  // no table: anyone is answered
  RulesetSpec spec;
  spec.mode = EnforceMode::kEnforce;
  spec.host_ports = {"p1"};
  spec.bindings.push_back({"p1", kMac1, {ip("192.0.2.11")}});
  auto script = renderRuleset(spec);
  ASSERT_TRUE(script.isOk()) << script.status().message();
  ASSERT_TRUE(nft_->run(*script).isOk()) << *script;
  EXPECT_TRUE(answered(kMac1, "192.0.2.11"));
  EXPECT_FALSE(answered(kMac1, "192.0.2.98"));  // another address
  EXPECT_FALSE(answered(kMac3, "192.0.2.11"));  // another MAC
  auto counts = nft_->dropCounts();
  ASSERT_TRUE(counts.isOk()) << counts.status().message();
  EXPECT_EQ((*counts)["arp_spoof"], 1u);
  EXPECT_EQ((*counts)["mac_spoof"], 1u);
  spec.port_modes = {{"p1", EnforceMode::kOff}};  // its pool says off: no netdev table at all
  ASSERT_TRUE(nft_->run(renderRuleset(spec).value()).isOk());
  EXPECT_TRUE(answered(kMac1, "192.0.2.97"));
  ASSERT_TRUE(nft_->run(renderRemoval()).isOk());
}

// Port forwards on a real kernel, in a private namespace: the node's own TCP clients reach a
// "binding's" server (192.0.2.10:80, on a veth end) through the host ports, via the
// output hook's DNAT (the prerouting path is the netns lab's: tests/netns/enforce_netns_test.py).
class ForwardLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a private network namespace)";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    sh("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d0 up && ip link "
       "set d1 up");
    sh("ip addr add 192.0.2.10/24 dev d0 && ip addr add 198.51.100.1/24 dev d0");
    server_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = v4("192.0.2.10", 80);
    ASSERT_EQ(bind(server_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(server_, 16), 0);
    auto nft = Nftables::open();
    ASSERT_TRUE(nft.isOk()) << nft.status().message();
    nft_ = std::move(*nft);
  }
  void TearDown() override {
    if (server_ >= 0) close(server_);
  }
  static sockaddr_in v4(const char* text, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, text, &a.sin_addr);
    return a;
  }
  // True when a TCP connection to text:port is accepted by the server.
  bool reaches(const char* text, std::uint16_t port) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = v4(text, port);
    const bool connected = connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(c);
    if (!connected) return false;
    pollfd p{server_, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) return false;
    close(accept(server_, nullptr, nullptr));
    return true;
  }
  void load(std::optional<std::vector<PortForward>> forwards) {
    RulesetSpec spec;
    spec.mode = EnforceMode::kOff;
    spec.forwards = std::move(forwards);
    auto script = renderRuleset(spec);
    ASSERT_TRUE(script.isOk()) << script.status().message();
    ASSERT_TRUE(nft_->run(*script).isOk()) << *script;
  }

  int server_ = -1;
  std::unique_ptr<Nftables> nft_;
};

TEST_F(ForwardLab, HostPortsReachTheBindingUntilTheForwardGoes) {
  EXPECT_FALSE(reaches("198.51.100.1", 8080));
  load(std::vector<PortForward>{{"tcp", std::nullopt, 8080, ip("192.0.2.10"), 80},
                                {"tcp", ip("198.51.100.1"), 8081, ip("192.0.2.10"), 80},
                                {"udp", std::nullopt, 8082, ip("192.0.2.10"), 80}});
  EXPECT_TRUE(reaches("198.51.100.1", 8080));  // every local address
  EXPECT_TRUE(reaches("192.0.2.10", 8080));
  EXPECT_TRUE(reaches("198.51.100.1", 8081));  // only its host address
  EXPECT_FALSE(reaches("192.0.2.10", 8081));
  EXPECT_FALSE(reaches("198.51.100.1", 8082));  // udp only
  load(std::vector<PortForward>{{"tcp", ip("198.51.100.1"), 8081, ip("192.0.2.10"), 80}});
  EXPECT_FALSE(reaches("198.51.100.1", 8080));
  EXPECT_TRUE(reaches("198.51.100.1", 8081));
  EXPECT_TRUE(nft_->hasForwards());
  load(std::nullopt);  // no forwarding table at all
  EXPECT_FALSE(reaches("198.51.100.1", 8081));
  EXPECT_FALSE(nft_->hasForwards());
  EXPECT_TRUE(nft_->run("list tables\n").isOk());
}

TEST_F(ForwardLab, ARefusedForwardScriptKeepsTheLastGoodOne) {
  load(std::vector<PortForward>{{"tcp", std::nullopt, 8080, ip("192.0.2.10"), 80}});
  RulesetSpec bad{
      .mode = EnforceMode::kOff,
      .log_group = 0,
      .guarded_ports = {},
      .host_ports = {},
      .bindings = {},
      .held_macs = {},
      .port_modes = {},
      .forwards = std::vector<PortForward>{{"icmp", std::nullopt, 1, ip("192.0.2.10"), 1}}};
  EXPECT_EQ(renderRuleset(bad).status().code(), StatusCode::kInvalidArgument);
  RulesetSpec ok;
  ok.mode = EnforceMode::kOff;
  ok.forwards = std::vector<PortForward>{};
  EXPECT_FALSE(
      nft_->run(renderRuleset(ok).value() + "add rule inet netledger output bogus\n").isOk());
  EXPECT_TRUE(reaches("198.51.100.1", 8080));
}

}  // namespace
}  // namespace netledger::enforce
