// Fuzzes the DHCP server's state machine over a real Ledger (memory: store): every input is a
// sequence of DHCP messages from eight clients (directly and through a relay) built from
// 8-byte records, or raw bytes. Whatever arrives: no crash, every reply well formed and
// addressed by RFC 2131 4.1, an ACK only for an address the client holds in the ledger once
// everything is durable, and the pools' counts consistent.
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/ledger_adapter.h"
#include "fuzz_check.h"
#include "ledger/ledger.h"
#include "server/dhcp/dhcp_server.h"
#include "store/register.h"

using namespace netledger;
using dhcp::MessageType;

namespace {

const addr::Ipv4 kServerId(0xC0000201);  // 192.0.2.1
const addr::Ipv4 kRelay(0xC6336401);     // 198.51.100.1

struct Sink final : server::DhcpReplySink {
  std::mutex mu;
  std::vector<server::DhcpReply> replies;
  void send(const server::DhcpReply& r) override {
    std::lock_guard lock(mu);
    replies.push_back(r);
  }
};

struct World {
  FakeClock clock;
  std::unique_ptr<ledger::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<server::DhcpLedgerAdapter> adapter;
  Sink sink;
  std::unique_ptr<server::DhcpServer> server;
  const ledger::Actor admin = ledger::Actor::system("fuzz");

  World() {
    store::registerBuiltinStores();
    store = ledger::openStore("memory:").value();
    ledger = std::make_unique<ledger::Ledger>(*store, clock);
    FUZZ_CHECK(ledger->open().isOk());
    pool("lan", "192.0.2.0/28", "192.0.2.1");  // 13 addresses: exhaustion is reachable
    pool("far", "198.51.100.0/28", "198.51.100.1");
    adapter = std::make_unique<server::DhcpLedgerAdapter>(*ledger);
    server = std::make_unique<server::DhcpServer>(*adapter, clock, sink, nullptr, nullptr, "n1");
  }
  void pool(const char* name, const char* cidr, const char* gateway) {
    ledger::PoolCreate c;
    c.record.name = name;
    c.record.cidrs = {addr::Prefix::parse(cidr).value()};
    c.record.gateway = addr::IpAddress::parse(gateway).value();
    c.record.quarantine_s = 30;
    c.record.dhcp = ledger::PoolDhcp{};
    c.record.dhcp->lease_s = 60;
    auto r = ledger->createPool(admin, std::move(c));
    FUZZ_CHECK(r.isOk() && ledger->waitDurable(r->ticket).isOk());
  }
  // Everything the server wrote is durable and every ACK waiting for it sent: two writes of
  // our own, one after the other (the commit thread runs a batch's callbacks, the ACKs, before
  // it commits the next batch).
  void flush() {
    for (int i = 0; i < 2; ++i) {
      if (anchor == 0) {  // an unpooled address, so no fuzzed client can take it
        ledger::AllocateRequest a;
        a.instance = "anchor";
        a.address = addr::IpAddress::parse("203.0.113.200").value();
        auto r = ledger->allocate(admin, a);
        FUZZ_CHECK(r.isOk());
        anchor = r->value.id;
      }
      auto r = ledger->renew(admin, anchor, 86400 + (++renewals % 2));
      if (!r.isOk()) {  // expired by a sweep far in the fuzzed future: make it again
        anchor = 0;
        --i;
        continue;
      }
      (void)ledger->waitDurable(r->ticket);
    }
  }
  std::uint64_t anchor = 0;
  std::uint64_t renewals = 0;
};

addr::Mac clientMac(unsigned i) { return addr::Mac(0x525400000010ull + (i & 7)); }

// One record: type, client, flags, requested, ciaddr, relayed, server id, time step.
dhcp::Packet build(const std::uint8_t* r) {
  dhcp::Packet p;
  p.xid = 0x100u + r[1];
  const addr::Mac mac = clientMac(r[1]);
  for (int i = 0; i < 6; ++i) p.chaddr[static_cast<std::size_t>(i)] = mac.octet(i);
  p.setByte(dhcp::opt::kMessageType, static_cast<std::uint8_t>(r[0] % 9));
  p.flags = (r[2] & 1) ? dhcp::kBroadcastFlag : 0;
  const bool relayed = (r[5] & 1) != 0;
  const std::uint32_t base = relayed ? 0xC6336400u : 0xC0000200u;
  if (r[3] & 0x80) p.setU32(dhcp::opt::kRequestedAddress, base + (r[3] & 0x1f));
  if (r[4] & 0x80) p.ciaddr = addr::Ipv4(base + (r[4] & 0x1f));
  if (relayed) {
    p.giaddr = kRelay;
    const std::uint8_t agent[] = {1, 2, 'p', r[5]};
    p.set(dhcp::opt::kRelayAgentInfo, agent);
  }
  if (r[6] & 0x80) p.setU32(dhcp::opt::kServerId, (r[6] & 1) ? 0xC0000209u : kServerId.value());
  if (r[2] & 2) p.setU16(dhcp::opt::kMaxMessageSize, static_cast<std::uint16_t>(r[7] * 8));
  if (r[2] & 4) {
    const std::uint8_t id[] = {0xff, static_cast<std::uint8_t>(r[1] & 7), 1, 2};
    p.set(dhcp::opt::kClientId, id);
  }
  return p;
}

void checkReply(World& w, const server::DhcpReply& r) {
  dhcp::Packet p;
  FUZZ_CHECK(dhcp::parse(r.bytes, p) == dhcp::ParseError::kNone);
  FUZZ_CHECK(p.op == dhcp::kBootReply);
  FUZZ_CHECK(p.messageType() == r.type);
  FUZZ_CHECK(r.bytes.size() >= dhcp::kBootpMinimum && r.bytes.size() <= 2040);  // 57 <= 2040 here
  if (p.giaddr.value() != 0) FUZZ_CHECK(r.to == server::ReplyTo::kRelay && r.address == p.giaddr);
  if (r.type == MessageType::kNak) {
    FUZZ_CHECK(p.yiaddr.value() == 0);
    return;
  }
  if (r.type == MessageType::kAck && p.yiaddr.value() != 0) {
    // Checked once each message's writes are durable: the ACKed address is the client's.
    auto holder = w.ledger->holderOfAddress(w.admin, addr::IpAddress(p.yiaddr));
    FUZZ_CHECK(holder.isOk() && holder->mac == p.mac());
    FUZZ_CHECK(holder->state == ledger::BindingState::kActive);
  }
}

void checkPools(World& w) {
  for (const auto& v : w.ledger->listPools(w.admin)) {
    const auto& c = v.counts;
    FUZZ_CHECK(c.free + c.used + c.quarantined == c.allocatable);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();
  World& w = *world;
  auto settle = [&] {
    w.flush();
    std::vector<server::DhcpReply> replies;
    {
      std::lock_guard lock(w.sink.mu);
      replies.swap(w.sink.replies);
    }
    for (const auto& r : replies) checkReply(w, r);
  };
  if (size > 0 && data[0] == 0xff) {  // raw bytes straight into the server
    w.server->receive({data + 1, size - 1}, server::DhcpArrival{"br0", kServerId});
    settle();
  } else {
    for (std::size_t at = 0; at + 8 <= size && at < 8 * 64; at += 8) {
      const std::uint8_t* r = data + at;
      const dhcp::Packet p = build(r);
      const bool relayed = (r[5] & 1) != 0;
      w.server->receive(
          dhcp::serialize(p, 1500),
          server::DhcpArrival{relayed ? "" : "br0", relayed ? addr::Ipv4(0xCB007101) : kServerId});
      settle();
      w.clock.advance(std::chrono::seconds(r[7] % 16));
      if (r[7] & 0x80) (void)w.ledger->sweep();  // leases and offers expire
    }
  }
  checkPools(w);
  return 0;
}
