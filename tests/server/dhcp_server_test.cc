// DhcpServer over a real Ledger (memory: store) and a real Engine: each RFC 2131 exchange
// against what the ledger then holds, reply addressing (RFC 2131 4.1), the options a client
// gets, the decline budget, the probe's skip, and that no ACK leaves when the lease could not
// be made durable. The sockets are replaced by a recording sink, the wire probe by a table.
#include "server/dhcp/dhcp_server.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::server {
namespace {

using addr::Ipv4;
using addr::Mac;
using dhcp::MessageType;
using ledger::Actor;
using ledger::BindingState;
using namespace std::chrono_literals;
namespace opt = dhcp::opt;

Ipv4 v4(const char* s) { return Ipv4::parse(s).value(); }
const Mac kClient = Mac::parse("52:54:00:aa:bb:01").value();
const Ipv4 kServer = v4("192.0.2.1");

struct Sink final : DhcpReplySink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DhcpReply> replies;
  void send(const DhcpReply& r) override {
    std::lock_guard lock(mu);
    replies.push_back(r);
    cv.notify_all();
  }
  // The next reply, parsed (fails the test when none comes within a second).
  std::optional<std::pair<DhcpReply, dhcp::Packet>> next() {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, 1s, [&] { return taken < replies.size(); })) return std::nullopt;
    DhcpReply r = replies[taken++];
    dhcp::Packet p;
    EXPECT_EQ(dhcp::parse(r.bytes, p), dhcp::ParseError::kNone);
    return std::make_pair(r, p);
  }
  bool quiet() {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, 100ms, [&] { return taken < replies.size(); });
  }
  std::size_t taken = 0;
};

struct TableProber final : DhcpProber {
  std::map<Ipv4, Mac> answers;
  int probes = 0;
  void probe(const std::string&, Ipv4 target,
             std::function<void(std::optional<Mac>)> done) override {
    ++probes;
    auto it = answers.find(target);
    done(it == answers.end() ? std::nullopt : std::optional<Mac>(it->second));
  }
};

class DhcpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = std::make_unique<ledger::Ledger>(store_, clock_);
    ASSERT_TRUE(ledger_->open().isOk());
    port_ = std::make_unique<engine::LedgerAdapter>(*ledger_);
    engine_ = std::make_unique<engine::Engine>(*port_, clock_);
    ASSERT_TRUE(engine_->open().isOk());
    adapter_ = std::make_unique<DhcpLedgerAdapter>(*ledger_);
    makePool("lan", "192.0.2.0/24", "192.0.2.1", "192.0.2.10-192.0.2.20");
    makePool("far", "198.51.100.0/24", "198.51.100.1", "");
    server_ =
        std::make_unique<DhcpServer>(*adapter_, clock_, sink_, &prober_, engine_.get(), "node-1");
  }
  void TearDown() override {
    engine_->stop();
    ledger_->close();
  }
  void makePool(const char* name, const char* cidr, const char* gateway, const char* range) {
    ledger::PoolCreate create;
    create.record.name = name;
    create.record.cidrs = {addr::Prefix::parse(cidr).value()};
    create.record.gateway = addr::IpAddress::parse(gateway).value();
    if (*range) create.record.ranges = {addr::IpRange::parse(range).value()};
    ledger::PoolDhcp d;
    d.lease_s = 600;
    d.dns_servers = {addr::IpAddress::parse("192.0.2.53").value()};
    d.domain = "example.test";
    create.record.dhcp = d;
    auto r = ledger_->createPool(Actor::system("test"), std::move(create));
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    ASSERT_TRUE(ledger_->waitDurable(r->ticket).isOk());
  }
  dhcp::Packet packet(MessageType type, Mac mac = kClient) {
    dhcp::Packet p;
    p.xid = 0x1000 + static_cast<std::uint32_t>(type);
    for (int i = 0; i < 6; ++i) p.chaddr[static_cast<std::size_t>(i)] = mac.octet(i);
    p.setByte(opt::kMessageType, static_cast<std::uint8_t>(type));
    return p;
  }
  void send(const dhcp::Packet& p, Ipv4 server_id = kServer) {
    server_->receive(dhcp::serialize(p, 1500), DhcpArrival{"br0", server_id});
  }
  // DISCOVER -> OFFER -> REQUEST -> ACK; returns the address.
  Ipv4 lease(Mac mac = kClient) {
    send(packet(MessageType::kDiscover, mac));
    auto offer = sink_.next();
    EXPECT_TRUE(offer);
    if (!offer) return {};
    auto req = packet(MessageType::kRequest, mac);
    req.setU32(opt::kRequestedAddress, offer->second.yiaddr.value());
    req.setU32(opt::kServerId, kServer.value());
    send(req);
    auto ack = sink_.next();
    EXPECT_TRUE(ack && ack->second.messageType() == MessageType::kAck);
    return offer->second.yiaddr;
  }
  std::optional<ledger::BindingRecord> holder(Mac mac = kClient) {
    auto b = ledger_->holderOfMac(Actor::system("test"), mac);
    if (!b) return std::nullopt;
    return *b;
  }
  std::uint64_t dropped(DhcpDrop d) {
    return server_->counters().dropped[static_cast<std::size_t>(d)].load();
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<engine::LedgerAdapter> port_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<DhcpLedgerAdapter> adapter_;
  Sink sink_;
  TableProber prober_;
  std::unique_ptr<DhcpServer> server_;
};

TEST_F(DhcpServerTest, DiscoverOffersAReservationWithThePoolsOptions) {
  auto discover = packet(MessageType::kDiscover);
  const std::uint8_t asked[] = {opt::kDomainName, opt::kSubnetMask, opt::kRouter};
  discover.set(opt::kParameterList, asked);
  discover.flags = dhcp::kBroadcastFlag;
  send(discover);
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  const auto& [reply, p] = *offer;
  EXPECT_EQ(p.messageType(), MessageType::kOffer);
  EXPECT_EQ(p.op, dhcp::kBootReply);
  EXPECT_EQ(p.xid, discover.xid);
  EXPECT_EQ(p.yiaddr, v4("192.0.2.10"));
  EXPECT_EQ(reply.to, ReplyTo::kBroadcast);
  EXPECT_EQ(p.address(opt::kServerId), kServer);
  EXPECT_EQ(p.address(opt::kSubnetMask), v4("255.255.255.0"));
  EXPECT_EQ(p.address(opt::kRouter), v4("192.0.2.1"));
  EXPECT_EQ(p.address(opt::kDnsServers), v4("192.0.2.53"));
  EXPECT_EQ(p.address(opt::kBroadcastAddress), v4("192.0.2.255"));
  ASSERT_NE(p.find(opt::kLeaseTime), nullptr);
  // The asked-for options come first, in the client's order, after the fixed ones.
  std::vector<std::uint8_t> codes;
  for (const auto& o : p.options) codes.push_back(o.code);
  auto at = [&](std::uint8_t c) {
    return std::find(codes.begin(), codes.end(), c) - codes.begin();
  };
  EXPECT_LT(at(opt::kDomainName), at(opt::kSubnetMask));
  EXPECT_LT(at(opt::kSubnetMask), at(opt::kDnsServers));
  auto b = holder();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, BindingState::kReserved);
  EXPECT_EQ(b->labels.at("source"), "dhcp");
  EXPECT_EQ(b->host, "node-1");
  EXPECT_EQ(b->ttl_s, DhcpServer::kOfferHoldSeconds);
  EXPECT_EQ(prober_.probes, 1);
}

TEST_F(DhcpServerTest, RequestActivatesAndRenewsThenAcks) {
  const Ipv4 address = lease();
  auto b = holder();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, BindingState::kActive);
  EXPECT_EQ(b->ttl_s, 600);
  EXPECT_EQ(b->addresses.front().ip, addr::IpAddress(address));
  // A second DISCOVER from the same client offers the same address, without a new binding.
  send(packet(MessageType::kDiscover));
  auto again = sink_.next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->second.yiaddr, address);
  EXPECT_EQ(holder()->id, b->id);
}

TEST_F(DhcpServerTest, NoAckWhenTheLeaseIsNotDurable) {
  send(packet(MessageType::kDiscover));
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  auto req = packet(MessageType::kRequest);
  req.setU32(opt::kRequestedAddress, offer->second.yiaddr.value());
  req.setU32(opt::kServerId, kServer.value());
  makePool("sync", "203.0.113.0/24", "203.0.113.1", "");  // the offer's batch is durable
  store_.failNextApplies(1);
  send(req);
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kLedgerError), 1u);
}

TEST_F(DhcpServerTest, RequestForAnotherServerIsSilent) {
  send(packet(MessageType::kDiscover));
  ASSERT_TRUE(sink_.next());
  auto req = packet(MessageType::kRequest);
  req.setU32(opt::kRequestedAddress, v4("192.0.2.10").value());
  req.setU32(opt::kServerId, v4("192.0.2.254").value());
  send(req);
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kOtherServer), 1u);
}

TEST_F(DhcpServerTest, InitRebootOnTheWrongNetworkIsNakedBroadcast) {
  auto req = packet(MessageType::kRequest);
  req.setU32(opt::kRequestedAddress, v4("198.51.100.7").value());
  send(req);
  auto nak = sink_.next();
  ASSERT_TRUE(nak);
  EXPECT_EQ(nak->second.messageType(), MessageType::kNak);
  EXPECT_EQ(nak->first.to, ReplyTo::kBroadcast);
  EXPECT_EQ(nak->second.yiaddr, Ipv4());
  EXPECT_FALSE(holder());
}

TEST_F(DhcpServerTest, InitRebootWithoutARecordIsSilentAndATakenAddressNaked) {
  const Ipv4 held = lease();  // 192.0.2.10, by kClient
  const Mac other = Mac::parse("52:54:00:aa:bb:02").value();
  auto steal = packet(MessageType::kRequest, other);
  steal.setU32(opt::kRequestedAddress, held.value());
  send(steal);
  auto nak = sink_.next();
  ASSERT_TRUE(nak);
  EXPECT_EQ(nak->second.messageType(), MessageType::kNak);
  // A free address the ledger has no record of for this client: RFC 2131 4.3.2, silence.
  auto unknown = packet(MessageType::kRequest, other);
  unknown.setU32(opt::kRequestedAddress, v4("192.0.2.15").value());
  send(unknown);
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kUnknownLease), 1u);
  EXPECT_FALSE(holder(other));
}

TEST_F(DhcpServerTest, RenewingAnUnknownFreeAddressKeepsItForTheClient) {
  auto renew = packet(MessageType::kRequest);
  renew.ciaddr = v4("192.0.2.15");
  send(renew);
  auto ack = sink_.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->second.messageType(), MessageType::kAck);
  EXPECT_EQ(ack->second.yiaddr, v4("192.0.2.15"));
  EXPECT_EQ(ack->first.to, ReplyTo::kClient);
  auto b = holder();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, BindingState::kActive);
  EXPECT_EQ(b->addresses.front().ip, addr::IpAddress(v4("192.0.2.15")));
}

TEST_F(DhcpServerTest, RenewingIsUnicastToTheClientAndExtendsTheLease) {
  const Ipv4 address = lease();
  const auto before = holder()->version;
  auto renew = packet(MessageType::kRequest);
  renew.ciaddr = address;
  send(renew);
  auto ack = sink_.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->second.messageType(), MessageType::kAck);
  EXPECT_EQ(ack->first.to, ReplyTo::kClient);
  EXPECT_EQ(ack->first.address, address);
  EXPECT_EQ(ack->second.ciaddr, address);
  EXPECT_GT(holder()->version, before);
}

TEST_F(DhcpServerTest, ReleaseEndsTheBindingAndQuarantinesTheAddress) {
  const Ipv4 address = lease();
  const auto releases = ledger_->stats().releases;
  auto release = packet(MessageType::kRelease);
  release.ciaddr = address;
  send(release);
  EXPECT_TRUE(sink_.quiet());
  EXPECT_FALSE(holder());
  EXPECT_EQ(ledger_->stats().releases, releases + 1);
  auto pool = ledger_->getPool(Actor::system("test"), "lan");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->counts.quarantined, 1u);
  // The client comes back at once: a new address (the old one is in quarantine).
  EXPECT_NE(lease(), address);
}

TEST_F(DhcpServerTest, DeclinesPastTheBudgetStopTheOffers) {
  std::set<Ipv4> burnt;
  for (int i = 0; i < 3; ++i) {
    const Ipv4 address = lease();
    burnt.insert(address);
    auto decline = packet(MessageType::kDecline);
    decline.setU32(opt::kRequestedAddress, address.value());
    decline.setU32(opt::kServerId, kServer.value());
    send(decline);
  }
  EXPECT_EQ(burnt.size(), 3u);
  send(packet(MessageType::kDiscover));
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kDeclineBackoff), 1u);
  EXPECT_FALSE(holder());
  // Each declined address is a duplicate_ip naming the client; the budget a dhcp_decline.
  auto conflicts = engine_->list(engine::ConflictFilter{}, "", 100);
  ASSERT_TRUE(conflicts);
  std::set<std::string> duplicates;
  int loops = 0;
  for (const auto& c : conflicts->items) {
    if (c.kind == engine::ConflictKind::kDuplicateIp) duplicates.insert(c.ip);
    if (c.kind == engine::ConflictKind::kDhcpDecline) {
      ++loops;
      EXPECT_EQ(c.mac, kClient.toString());
      EXPECT_NE(c.message.find("declined 3 addresses"), std::string::npos) << c.message;
    }
  }
  EXPECT_EQ(duplicates.size(), 3u);
  EXPECT_EQ(loops, 1);
  clock_.advance(std::chrono::seconds(601));  // the back-off (600 s) is over
  send(packet(MessageType::kDiscover));
  EXPECT_TRUE(sink_.next());
}

TEST_F(DhcpServerTest, AProbedAddressInUseIsSkippedAndReported) {
  const Mac squatter = Mac::parse("52:54:00:de:ad:01").value();
  prober_.answers[v4("192.0.2.10")] = squatter;
  send(packet(MessageType::kDiscover));
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->second.yiaddr, v4("192.0.2.11"));
  EXPECT_EQ(server_->counters().probes_in_use.load(), 1u);
  engine_->processQueued();
  engine::ConflictFilter filter;
  auto conflicts = engine_->list(filter, "", 100);
  ASSERT_TRUE(conflicts);
  ASSERT_EQ(conflicts->items.size(), 1u);
  EXPECT_EQ(conflicts->items[0].kind, engine::ConflictKind::kUnknownStation);
  EXPECT_EQ(conflicts->items[0].ip, "192.0.2.10");
}

TEST_F(DhcpServerTest, RelayedTrafficIsAnsweredToTheRelayWithOption82Echoed) {
  auto discover = packet(MessageType::kDiscover);
  discover.giaddr = v4("198.51.100.1");
  const std::uint8_t agent[] = {1, 3, 'p', '-', '7', 2, 2, 'r', '1'};
  discover.set(opt::kRelayAgentInfo, agent);
  const std::uint8_t id[] = {0xff, 1, 2, 3, 4, 0, 1, 0, 1};
  discover.set(opt::kClientId, id);
  server_->receive(dhcp::serialize(discover, 1500), DhcpArrival{"", v4("203.0.113.9")});
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->first.to, ReplyTo::kRelay);
  EXPECT_EQ(offer->first.address, v4("198.51.100.1"));
  EXPECT_EQ(offer->second.giaddr, v4("198.51.100.1"));
  EXPECT_EQ(offer->second.yiaddr.value() >> 8, v4("198.51.100.0").value() >> 8);
  ASSERT_NE(offer->second.find(opt::kRelayAgentInfo), nullptr);
  EXPECT_EQ(offer->second.find(opt::kRelayAgentInfo)->data,
            std::vector<std::uint8_t>(std::begin(agent), std::end(agent)));
  EXPECT_EQ(offer->second.options.back().code, opt::kRelayAgentInfo);  // RFC 3046: last
  ASSERT_NE(offer->second.find(opt::kClientId), nullptr);              // RFC 6842
  auto b = holder();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->labels.at("dhcp.relay"), "198.51.100.1");
  EXPECT_EQ(b->labels.at("dhcp.client_id"), "ff0102030400010001");
  EXPECT_EQ(b->instance, "dhcp-ff0102030400010001");
  EXPECT_EQ(prober_.probes, 0);  // no link to probe from
}

TEST_F(DhcpServerTest, AStaticReservationIsOfferedToItsMac) {
  ledger::AllocateRequest r;
  r.instance = "printer";
  r.pools = {"lan"};
  r.address = addr::IpAddress::parse("192.0.2.18").value();
  r.mac = kClient;
  r.is_static = true;
  auto made = ledger_->allocate(Actor::system("test"), r);
  ASSERT_TRUE(made) << made.status().toString();
  EXPECT_EQ(lease(), v4("192.0.2.18"));
  EXPECT_EQ(holder()->id, made->value.id);
}

TEST_F(DhcpServerTest, InformGetsOptionsWithoutALease) {
  auto inform = packet(MessageType::kInform);
  inform.ciaddr = v4("192.0.2.99");
  send(inform);
  auto ack = sink_.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->second.messageType(), MessageType::kAck);
  EXPECT_EQ(ack->second.yiaddr, Ipv4());
  EXPECT_EQ(ack->second.find(opt::kLeaseTime), nullptr);
  EXPECT_EQ(ack->second.address(opt::kRouter), v4("192.0.2.1"));
  EXPECT_EQ(ack->first.to, ReplyTo::kClient);
  EXPECT_FALSE(holder());
}

TEST_F(DhcpServerTest, BadPacketsAreCountedAndChangeNothing) {
  std::vector<std::uint8_t> junk(100, 1);
  server_->receive(junk, DhcpArrival{"br0", kServer});
  auto reply = packet(MessageType::kOffer);
  reply.op = dhcp::kBootReply;
  send(reply);
  auto bootp = packet(MessageType::kDiscover);
  bootp.options.clear();
  send(bootp);
  auto multicast = packet(MessageType::kDiscover, Mac::parse("01:00:5e:00:00:01").value());
  send(multicast);
  send(packet(MessageType::kDiscover), v4("10.9.9.9"));  // no pool on that link
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kMalformed), 1u);
  EXPECT_EQ(dropped(DhcpDrop::kNotRequest), 2u);
  EXPECT_EQ(dropped(DhcpDrop::kNoHardware), 1u);
  EXPECT_EQ(dropped(DhcpDrop::kNoPool), 1u);
  EXPECT_EQ(ledger_->stats().bindings, 0u);
}

}  // namespace
}  // namespace netledger::server

namespace netledger::server {
namespace {

// Review cases: identities that collide, relayed renewals, full replies, the server's own
// address.
TEST_F(DhcpServerTest, AClientIdHeldByAnotherMacGetsNothing) {
  const std::uint8_t id[] = {0xff, 9, 9, 9};
  auto first = packet(MessageType::kDiscover);
  first.set(opt::kClientId, id);
  send(first);
  ASSERT_TRUE(sink_.next());
  const Mac clone = Mac::parse("52:54:00:aa:bb:09").value();
  auto second = packet(MessageType::kDiscover, clone);
  second.giaddr = v4("198.51.100.1");  // even on another link
  second.set(opt::kClientId, id);
  server_->receive(dhcp::serialize(second, 1500), DhcpArrival{"", v4("203.0.113.9")});
  EXPECT_TRUE(sink_.quiet());
  EXPECT_EQ(dropped(DhcpDrop::kClientIdInUse), 1u);
  EXPECT_FALSE(holder(clone));
  EXPECT_TRUE(holder(kClient));  // the first client keeps its offer
}

TEST_F(DhcpServerTest, TheSameMacWithANewClientIdReplacesItsOldLease) {
  const Ipv4 old = lease();
  const auto old_id = holder()->id;
  auto discover = packet(MessageType::kDiscover);
  const std::uint8_t id[] = {0xff, 7, 7, 7};
  discover.set(opt::kClientId, id);
  send(discover);
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  EXPECT_NE(offer->second.yiaddr, old);
  auto b = holder();
  ASSERT_TRUE(b);
  EXPECT_NE(b->id, old_id);
  EXPECT_EQ(b->instance, "dhcp-ff070707");
}

TEST_F(DhcpServerTest, ARelayedClientRenewsByUnicastToTheRelaySocket) {
  auto discover = packet(MessageType::kDiscover);
  discover.giaddr = v4("198.51.100.1");
  const DhcpArrival relay_socket{"", v4("203.0.113.9")};
  server_->receive(dhcp::serialize(discover, 1500), relay_socket);
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  auto select = packet(MessageType::kRequest);
  select.giaddr = v4("198.51.100.1");
  select.setU32(opt::kRequestedAddress, offer->second.yiaddr.value());
  select.setU32(opt::kServerId, v4("203.0.113.9").value());
  server_->receive(dhcp::serialize(select, 1500), relay_socket);
  ASSERT_TRUE(sink_.next());
  // T1: unicast from the client's own address, no relay in between.
  auto renew = packet(MessageType::kRequest);
  renew.ciaddr = offer->second.yiaddr;
  server_->receive(dhcp::serialize(renew, 1500), relay_socket);
  auto ack = sink_.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->second.messageType(), MessageType::kAck);
  EXPECT_EQ(ack->first.to, ReplyTo::kClient);
  EXPECT_EQ(ack->first.address, offer->second.yiaddr);
  // And its RELEASE reaches the lease.
  auto release = packet(MessageType::kRelease);
  release.ciaddr = offer->second.yiaddr;
  server_->receive(dhcp::serialize(release, 1500), relay_socket);
  EXPECT_FALSE(holder());
}

TEST_F(DhcpServerTest, AFullReplyKeepsTheLeaseAndOption82AndFitsTheDatagram) {
  ledger::PoolPatch patch;
  ledger::PoolDhcp d;
  d.domain = std::string(250, 'd');
  for (int i = 1; i <= 8; ++i)
    d.dns_servers.push_back(addr::IpAddress::parse("192.0.2." + std::to_string(50 + i)).value());
  d.ntp_servers = d.dns_servers;
  patch.dhcp = d;
  auto patched = ledger_->updatePool(Actor::system("test"), "lan", patch);
  ASSERT_TRUE(patched) << patched.status().toString();
  ASSERT_TRUE(ledger_->waitDurable(patched->ticket).isOk());
  clock_.advance(std::chrono::seconds(2));  // the server rereads its pools
  auto discover = packet(MessageType::kDiscover);
  const std::vector<std::uint8_t> agent(60, 'a');
  discover.set(opt::kRelayAgentInfo, agent);
  send(discover);
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  EXPECT_LE(offer->first.bytes.size(), 548u);  // 576 minus the IP and UDP headers
  const auto& p = offer->second;
  ASSERT_NE(p.find(opt::kRelayAgentInfo), nullptr);
  EXPECT_EQ(p.options.back().code, opt::kRelayAgentInfo);
  for (std::uint8_t code : {opt::kLeaseTime, opt::kRenewalTime, opt::kRebindingTime, opt::kServerId,
                            opt::kSubnetMask, opt::kRouter})
    EXPECT_NE(p.find(code), nullptr) << int(code);
}

TEST_F(DhcpServerTest, TheServersOwnAddressIsNeverOffered) {
  ledger::PoolPatch patch;
  patch.ranges = std::vector<addr::IpRange>{addr::IpRange::parse("192.0.2.2-192.0.2.20").value()};
  auto patched = ledger_->updatePool(Actor::system("test"), "lan", patch);
  ASSERT_TRUE(patched) << patched.status().toString();
  ASSERT_TRUE(ledger_->waitDurable(patched->ticket).isOk());
  clock_.advance(std::chrono::seconds(2));
  send(packet(MessageType::kDiscover), v4("192.0.2.2"));  // the interface holds .2
  auto offer = sink_.next();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->second.yiaddr, v4("192.0.2.3"));
}

}  // namespace
}  // namespace netledger::server
