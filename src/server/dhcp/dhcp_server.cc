#include "server/dhcp/dhcp_server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/crypto.h"
#include "engine/engine.h"

namespace netledger::server {

using addr::Ipv4;
using dhcp::MessageType;
using ledger::BindingRecord;
using ledger::PoolRecord;
namespace opt = dhcp::opt;

// One packet being answered: what came in and what it resolved to.
struct DhcpServer::Exchange {
  dhcp::Packet in;
  DhcpArrival arrival;
  PoolRecord pool;
  addr::Mac mac;
  std::string instance;   // "dhcp-" + client identifier (or MAC) in hex
  std::string client_id;  // hex of option 61, "" when absent
  std::size_t max_size = dhcp::kDefaultMaxMessage;
};

namespace {

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char buf[3];
  for (std::uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

std::uint32_t maskOf(int length) { return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length); }

ledger::Millis nowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

bool contains(const PoolRecord& pool, Ipv4 ip) {
  const addr::IpAddress a(ip);
  return std::any_of(pool.cidrs.begin(), pool.cidrs.end(),
                     [&](const addr::Prefix& c) { return c.contains(a); });
}

// The address that picks the pool: the relay's (giaddr); a relayed client renewing by unicast
// to the relay socket (no giaddr) is on the link of its own address; else the serving
// interface's.
Ipv4 linkOf(const dhcp::Packet& in, const DhcpArrival& arrival) {
  if (in.giaddr.value() != 0) return in.giaddr;
  if (arrival.interface.empty() && in.ciaddr.value() != 0) return in.ciaddr;
  return arrival.server_id;
}

// "dhcp-" + the client identifier in hex (RFC 4361: it is the client), else the MAC; a long
// identifier is shortened with a digest so that two never share a name.
std::string instanceName(const std::string& client_id, const std::string& mac_hex) {
  if (client_id.empty()) return "dhcp-" + mac_hex;
  if (client_id.size() <= 120) return "dhcp-" + client_id;
  const auto digest = sha256(client_id);
  return "dhcp-" + client_id.substr(0, 80) + "-" + hex(std::span(digest).first(16));
}

bool isDhcpBinding(const BindingRecord& b) {
  auto it = b.labels.find("source");
  return it != b.labels.end() && it->second == "dhcp";
}

}  // namespace

std::string_view dhcpDropName(DhcpDrop d) {
  static constexpr std::string_view kNames[kDhcpDropCount] = {
      "malformed",    "not_request",     "no_hardware",      "no_pool",
      "other_server", "decline_backoff", "exhausted",        "ledger_error",
      "probe_in_use", "unknown_lease",   "client_id_in_use", "mac_held"};
  return kNames[static_cast<std::size_t>(d)];
}

DhcpServer::DhcpServer(DhcpLedger& ledger, Clock& clock, DhcpReplySink& sink, DhcpProber* prober,
                       engine::Engine* engine, std::string node)
    : ledger_(ledger),
      clock_(clock),
      sink_(sink),
      prober_(prober),
      engine_(engine),
      node_(std::move(node)),
      actor_(ledger::Actor::system("dhcp")) {}

void DhcpServer::receive(std::span<const std::uint8_t> bytes, const DhcpArrival& arrival) {
  auto ex = std::make_shared<Exchange>();
  if (auto e = dhcp::parse(bytes, ex->in); e != dhcp::ParseError::kNone) {
    ++counters_.malformed[static_cast<std::size_t>(e)];
    return drop(DhcpDrop::kMalformed);
  }
  const auto type = ex->in.messageType();
  ++counters_.received[type ? static_cast<std::size_t>(*type) : 0];
  if (ex->in.op != dhcp::kBootRequest || !type) return drop(DhcpDrop::kNotRequest);
  auto mac = ex->in.mac();
  if (!mac || mac->isMulticast() || mac->isZero()) return drop(DhcpDrop::kNoHardware);
  ex->arrival = arrival;
  ex->mac = *mac;
  auto pool = poolFor(linkOf(ex->in, arrival));
  if (!pool) return drop(DhcpDrop::kNoPool);
  ex->pool = std::move(*pool);
  if (const dhcp::Option* id = ex->in.find(opt::kClientId); id != nullptr && !id->data.empty())
    ex->client_id = hex(id->data);
  ex->instance = instanceName(ex->client_id, hex(std::span(ex->in.chaddr).first(6)));
  if (auto size = ex->in.u16(opt::kMaxMessageSize)) ex->max_size = *size;
  dispatch(*ex);
}

void DhcpServer::dispatch(Exchange& ex) {
  switch (*ex.in.messageType()) {
    case MessageType::kDiscover:
      return discover(ex);
    case MessageType::kRequest:
      return request(ex);
    case MessageType::kRelease:
      return release(ex);
    case MessageType::kDecline:
      return decline(ex);
    case MessageType::kInform:
      return inform(ex);
    default:
      return drop(DhcpDrop::kNotRequest);
  }
}

std::optional<PoolRecord> DhcpServer::poolFor(Ipv4 link) {
  std::lock_guard lock(pools_mu_);
  const Millis now = nowMs(clock_);
  if (pools_read_ < 0 || now - pools_read_ >= 1000 || now < pools_read_) {
    pools_.clear();
    for (auto& view : ledger_.listPools(actor_)) {
      if (view.record.dhcp && view.record.dhcp->enabled) pools_.push_back(std::move(view.record));
    }
    pools_read_ = now;
  }
  for (const PoolRecord& p : pools_)
    if (contains(p, link)) return p;
  return std::nullopt;
}

std::optional<BindingRecord> DhcpServer::clientBinding(const Exchange& ex) const {
  auto b = ledger_.holderOfMac(actor_, ex.mac);
  if (!b) return std::nullopt;
  // Another client identifier on the same hardware (RFC 4361: the identifier is the client).
  if (isDhcpBinding(*b) && b->instance != ex.instance) return std::nullopt;
  return *b;
}

std::optional<Ipv4> DhcpServer::addressIn(const BindingRecord& b, const PoolRecord& pool) const {
  for (const auto& a : b.addresses) {
    if (a.ip.isV4() && contains(pool, a.ip.v4())) return a.ip.v4();
  }
  return std::nullopt;
}

// ---- DISCOVER ----

void DhcpServer::discover(Exchange& ex) {
  if (inBackoff(ex)) return drop(DhcpDrop::kDeclineBackoff);
  if (auto b = clientBinding(ex)) {
    if (auto address = addressIn(*b, ex.pool)) return reply(ex, MessageType::kOffer, *address);
  }
  auto requested = ex.in.address(opt::kRequestedAddress);
  if (requested && !contains(ex.pool, *requested)) requested.reset();
  auto made = allocateFor(ex, requested, true);
  if (!made) return;
  auto address = addressIn(made->value, ex.pool);
  if (!address) return drop(DhcpDrop::kLedgerError);
  offer(std::make_shared<Exchange>(ex), made->value.id, *address, 1);
}

// Whatever DHCP lease holds the client's MAC ends first: the client moved from another
// network, or the NIC now runs a client with another identifier. A binding made another way
// (a reservation elsewhere) keeps the MAC: kMacHeld.
Status DhcpServer::retireOtherLease(Exchange& ex) {
  auto held = ledger_.holderOfMac(actor_, ex.mac);
  if (!held) return Status::ok();
  if (!isDhcpBinding(*held)) {
    drop(DhcpDrop::kMacHeld);
    return Status::conflict("mac: held by binding " + std::to_string(held->id));
  }
  auto released = ledger_.release(actor_, held->id);
  if (!released) drop(DhcpDrop::kLedgerError);
  return released.status();
}

Result<ledger::Applied<BindingRecord>> DhcpServer::allocateFor(Exchange& ex,
                                                               std::optional<Ipv4> wanted,
                                                               bool or_any) {
  NL_RETURN_IF_ERROR(retireOtherLease(ex));
  ledger::AllocateRequest r;
  r.instance = ex.instance;
  r.interface = "dhcp";
  r.pools = {ex.pool.name};
  r.mac = ex.mac;
  r.own_mac = true;
  r.host = node_;
  r.ttl_s = kOfferHoldSeconds;
  r.probe = true;  // `reserved` until the REQUEST: the offer's hold
  r.labels["source"] = "dhcp";
  if (!ex.client_id.empty()) r.labels["dhcp.client_id"] = ex.client_id.substr(0, 120);
  if (ex.in.giaddr.value() != 0) r.labels["dhcp.relay"] = ex.in.giaddr.toString();
  if (!ex.arrival.interface.empty()) r.labels["dhcp.interface"] = ex.arrival.interface;
  if (wanted) {
    r.address = addr::IpAddress(*wanted);
    auto made = ledger_.allocate(actor_, r);
    if (made || !or_any) return checkNew(std::move(made));
    r.address.reset();
  }
  auto made = checkNew(ledger_.allocate(actor_, r));
  if (!made) {
    const bool full = made.status().code() == StatusCode::kPoolExhausted;
    drop(full ? DhcpDrop::kExhausted : DhcpDrop::kLedgerError);
    if (!full)
      spdlog::warn("dhcp: allocation for {} failed: {}", ex.instance, made.status().message());
  }
  return made;
}

// An allocation that found the instance already bound (created = false) met another MAC
// with this client identifier (this MAC's own leases were retired first): a cloned machine or
// a spoofer. It gets nothing; the holder keeps its lease.
Result<ledger::Applied<BindingRecord>> DhcpServer::checkNew(
    Result<ledger::Applied<BindingRecord>> made) {
  if (!made || made->created) return made;
  drop(DhcpDrop::kClientIdInUse);
  return Status::conflict("client identifier in use by binding " + std::to_string(made->value.id));
}

void DhcpServer::offer(std::shared_ptr<Exchange> ex, std::uint64_t id, Ipv4 address, int attempt) {
  // The server's own address on the link is never offered, whatever the pool says.
  if (address == ex->arrival.server_id) return skip(ex, id, address, attempt);
  const bool probe = ex->pool.dhcp->probe && prober_ != nullptr && !ex->arrival.interface.empty();
  if (!probe) return reply(*ex, MessageType::kOffer, address);
  prober_->probe(ex->arrival.interface, address,
                 [this, ex, id, address, attempt](std::optional<addr::Mac> answer) {
                   probed(ex, id, address, attempt, answer);
                 });
}

void DhcpServer::probed(const std::shared_ptr<Exchange>& ex, std::uint64_t id, Ipv4 address,
                        int attempt, std::optional<addr::Mac> answer) {
  if (!answer) return reply(*ex, MessageType::kOffer, address);
  ++counters_.probes_in_use;
  skip(ex, id, address, attempt);
  // After the skip: the binding no longer holds the address, so the engine sees a station the
  // ledger never gave it to (unknown_station), not one at odds with our own offer.
  reportStation(*ex, address, *answer);
}

// `address` must not be offered: to quarantine, and the binding gets the pool's next one.
void DhcpServer::skip(const std::shared_ptr<Exchange>& ex, std::uint64_t id, Ipv4 address,
                      int attempt) {
  if (attempt >= kProbeAttempts) {
    (void)ledger_.release(actor_, id);
    return drop(DhcpDrop::kProbeInUse);
  }
  auto moved = ledger_.reassignAddress(actor_, id, addr::IpAddress(address));
  if (!moved) return drop(DhcpDrop::kExhausted);
  auto next = addressIn(moved->value, ex->pool);
  if (!next) return drop(DhcpDrop::kExhausted);
  offer(ex, id, *next, attempt + 1);
}

void DhcpServer::reportStation(const Exchange& ex, Ipv4 address, addr::Mac mac) {
  if (engine_ == nullptr) return;
  engine::Observation o;
  o.ip = addr::IpAddress(address);
  o.mac = mac;
  o.network = ex.pool.network;
  o.host = node_;
  o.interface = ex.arrival.interface;
  o.source = engine::Source::kDhcp;
  o.kind = engine::FrameKind::kArpReply;
  o.time = engine_->now();
  (void)engine_->submit({std::move(o)});  // a full queue loses the conflict, not the skip
}

// ---- REQUEST ----

void DhcpServer::request(Exchange& ex) {
  if (ex.in.find(opt::kServerId) != nullptr) return requestSelecting(ex);
  if (auto requested = ex.in.address(opt::kRequestedAddress);
      requested && ex.in.ciaddr.value() == 0)
    return requestKnownAddress(ex, *requested, true);  // INIT-REBOOT
  if (ex.in.ciaddr.value() != 0) return requestKnownAddress(ex, ex.in.ciaddr, false);
  drop(DhcpDrop::kNotRequest);
}

void DhcpServer::requestSelecting(Exchange& ex) {
  auto server = ex.in.address(opt::kServerId);
  if (!server || *server != ex.arrival.server_id) return drop(DhcpDrop::kOtherServer);
  auto requested = ex.in.address(opt::kRequestedAddress);
  auto b = clientBinding(ex);
  auto address = b ? addressIn(*b, ex.pool) : std::nullopt;
  if (!requested || !address || *address != *requested) return nak(ex, "no such offer");
  lease(ex, *b, *address);
}

// INIT-REBOOT, RENEWING and REBINDING: the client names the address it believes it holds.
void DhcpServer::requestKnownAddress(Exchange& ex, Ipv4 address, bool init_reboot) {
  if (!contains(ex.pool, address)) return nak(ex, "wrong network");
  auto b = clientBinding(ex);
  if (b) {
    auto held = addressIn(*b, ex.pool);
    if (held && *held == address) return lease(ex, *b, address);
    if (held || !isDhcpBinding(*b)) return nak(ex, "not your address");
  }
  // No record of this client on this network. INIT-REBOOT: an address another holds is
  // wrong (NAK); else silence (RFC 2131 4.3.2 MUST), and the client starts over with a
  // DISCOVER. RENEWING / REBINDING: the client has used the address all along (a lease from
  // before the ledger): it keeps it if it is free.
  if (init_reboot) {
    if (ledger_.holderOfAddress(actor_, addr::IpAddress(address)))
      return nak(ex, "address held by another client");
    return drop(DhcpDrop::kUnknownLease);
  }
  // No record (a lease from before the ledger, or one given out on another network): the
  // address is the client's if it is free.
  auto made = allocateFor(ex, address, false);
  if (!made) return nak(ex, "address unavailable");
  lease(ex, made->value, address);
}

void DhcpServer::lease(Exchange& ex, const BindingRecord& b, Ipv4 address) {
  // Both writes must be durable: a failed batch rebuilds memory, and a renewal applied after
  // that rebuild would succeed on a binding whose activation was lost.
  std::vector<std::uint64_t> tickets;
  if (b.state == ledger::BindingState::kReserved) {
    auto on = ledger_.activate(actor_, b.id);
    if (!on) return drop(DhcpDrop::kLedgerError);
    tickets.push_back(on->ticket);
  }
  // A reservation (static, or a binding made through the API with the client's MAC) is the
  // operator's: it is served, not given a DHCP lease length.
  if (!b.is_static && isDhcpBinding(b)) {
    auto renewed = ledger_.renew(actor_, b.id, ex.pool.dhcp->lease_s);
    if (!renewed) return drop(DhcpDrop::kLedgerError);
    tickets.push_back(renewed->ticket);
  }
  ackWhenDurable(std::make_shared<Exchange>(std::move(ex)), address, std::move(tickets));
}

void DhcpServer::ackWhenDurable(std::shared_ptr<Exchange> ex, Ipv4 address,
                                std::vector<std::uint64_t> tickets) {
  if (tickets.empty()) return reply(*ex, MessageType::kAck, address);
  const std::uint64_t ticket = tickets.front();
  tickets.erase(tickets.begin());
  ledger_.whenDurable(ticket, [this, ex, address, rest = std::move(tickets)](Status s) mutable {
    if (!s.isOk()) {
      spdlog::warn("dhcp: lease of {} not durable, no ACK: {}", address.toString(), s.message());
      return drop(DhcpDrop::kLedgerError);
    }
    ackWhenDurable(std::move(ex), address, std::move(rest));
  });
}

// ---- RELEASE, DECLINE, INFORM ----

void DhcpServer::release(Exchange& ex) {
  auto b = clientBinding(ex);
  auto held = b ? addressIn(*b, ex.pool) : std::nullopt;
  if (!held || *held != ex.in.ciaddr || b->is_static || !isDhcpBinding(*b))
    return drop(DhcpDrop::kUnknownLease);
  if (!ledger_.release(actor_, b->id)) drop(DhcpDrop::kLedgerError);
}

void DhcpServer::decline(Exchange& ex) {
  ++counters_.declines;
  auto requested = ex.in.address(opt::kRequestedAddress);
  auto b = clientBinding(ex);
  auto held = b ? addressIn(*b, ex.pool) : std::nullopt;
  if (!requested || !held || *held != *requested || !isDhcpBinding(*b))
    return drop(DhcpDrop::kUnknownLease);
  if (!ledger_.release(actor_, b->id)) return drop(DhcpDrop::kLedgerError);
  reportDecline(ex, *requested);
  if (noteDecline(ex)) reportBackoff(ex, *requested);
}

engine::Engine::Report DhcpServer::declineReport(const Exchange& ex, Ipv4 address) const {
  engine::Engine::Report r;
  r.network = ex.pool.network;
  r.pool = ex.pool.name;
  r.ip = address.toString();
  r.mac = ex.mac.toString();
  r.evidence.ip = addr::IpAddress(address);
  r.evidence.mac = ex.mac;
  r.evidence.network = ex.pool.network;
  r.evidence.host = node_;
  r.evidence.interface = ex.arrival.interface;
  r.evidence.source = engine::Source::kDhcp;
  r.evidence.time = nowMs(clock_);
  r.details["client"] = ex.instance;
  if (ex.in.giaddr.value() != 0) r.details["relay"] = ex.in.giaddr.toString();
  return r;
}

// The client found the address in use on the wire (it probed before taking it): another
// station holds an address of the pool. The address is in quarantine already.
void DhcpServer::reportDecline(const Exchange& ex, Ipv4 address) {
  if (engine_ == nullptr) return;
  auto r = declineReport(ex, address);
  r.kind = engine::ConflictKind::kDuplicateIp;
  r.subject = "ip:" + r.ip;
  r.macs = {r.mac};
  r.message = r.ip + " was declined by DHCP client " + r.mac +
              ": another station answers for it (the address is quarantined)";
  engine_->report(r);
}

void DhcpServer::reportBackoff(const Exchange& ex, Ipv4 address) {
  const auto& d = *ex.pool.dhcp;
  spdlog::warn("dhcp: client {} ({}) declined {} addresses in {} s: no offers for {} s",
               ex.instance, ex.mac.toString(), d.decline_limit, d.decline_window_s,
               d.decline_backoff_s);
  if (engine_ == nullptr) return;
  auto r = declineReport(ex, address);
  r.kind = engine::ConflictKind::kDhcpDecline;
  r.subject = "dhcp-client:" + ex.instance;
  r.message = "DHCP client " + r.mac + " declined " + std::to_string(d.decline_limit) +
              " addresses within " + std::to_string(d.decline_window_s) + " s: no offers for " +
              std::to_string(d.decline_backoff_s) +
              " s (a broken client, or a network where many addresses are taken)";
  r.details["backoff_s"] = d.decline_backoff_s;
  engine_->report(r);
}

void DhcpServer::inform(Exchange& ex) {
  if (ex.in.ciaddr.value() == 0) return drop(DhcpDrop::kNotRequest);
  reply(ex, MessageType::kAck, Ipv4());
}

bool DhcpServer::noteDecline(const Exchange& ex) {
  const auto& d = *ex.pool.dhcp;
  const Millis now = nowMs(clock_);
  std::lock_guard lock(decline_mu_);
  Decliner& c = decliners_[ex.instance];
  c.declines.push_back(now);
  while (!c.declines.empty() && c.declines.front() <= now - d.decline_window_s * 1000)
    c.declines.pop_front();
  if (static_cast<int>(c.declines.size()) < d.decline_limit) return false;
  c.backoff_until = now + d.decline_backoff_s * 1000;
  c.declines.clear();
  return true;
}

bool DhcpServer::inBackoff(const Exchange& ex) {
  std::lock_guard lock(decline_mu_);
  auto it = decliners_.find(ex.instance);
  if (it == decliners_.end()) return false;
  const Millis now = nowMs(clock_);
  if (it->second.backoff_until > now) return true;
  const Millis window = ex.pool.dhcp->decline_window_s * 1000;
  if (it->second.declines.empty() || it->second.declines.back() <= now - window)
    decliners_.erase(it);
  return false;
}

// ---- replies ----

void DhcpServer::nak(Exchange& ex, std::string_view why) {
  dhcp::Packet p = replyPacket(ex, MessageType::kNak, Ipv4());
  p.set(opt::kMessage, std::span(reinterpret_cast<const std::uint8_t*>(why.data()), why.size()));
  DhcpReply r;
  r.type = MessageType::kNak;
  r.interface = ex.arrival.interface;
  if (ex.in.giaddr.value() != 0) {
    p.flags |= dhcp::kBroadcastFlag;  // RFC 2131 4.3.2: the relay broadcasts it
    r.to = ReplyTo::kRelay;
    r.address = ex.in.giaddr;
  } else {
    r.to = ReplyTo::kBroadcast;
  }
  if (const dhcp::Option* relay = ex.in.find(opt::kRelayAgentInfo)) p.set(relay->code, relay->data);
  r.bytes = dhcp::serialize(p, ex.max_size);
  ++counters_.sent[static_cast<std::size_t>(MessageType::kNak)];
  sink_.send(r);
}

void DhcpServer::reply(Exchange& ex, MessageType type, Ipv4 yiaddr) {
  dhcp::Packet p = replyPacket(ex, type, yiaddr);
  // Room first for what must be there (RFC 3046: option 82 in every reply, the last option),
  // then the pool's options as far as they fit.
  const dhcp::Option* relay = ex.in.find(opt::kRelayAgentInfo);
  std::size_t budget = dhcp::messageLimit(ex.max_size);
  if (relay != nullptr) {
    dhcp::Packet alone;
    alone.options.push_back(*relay);
    budget -= std::min(budget, dhcp::encodedSize(alone) - dhcp::kMinPacket - 1);
  }
  addPoolOptions(ex, p, yiaddr, budget);
  if (relay != nullptr) p.set(relay->code, relay->data);
  DhcpReply r;
  r.type = type;
  r.interface = ex.arrival.interface;
  if (ex.in.giaddr.value() != 0) {
    r.to = ReplyTo::kRelay;
    r.address = ex.in.giaddr;
  } else if (ex.in.ciaddr.value() != 0) {
    r.to = ReplyTo::kClient;
    r.address = ex.in.ciaddr;
  } else if (ex.in.broadcast()) {
    r.to = ReplyTo::kBroadcast;
  } else {
    r.to = ReplyTo::kHardware;
    r.address = yiaddr;
    r.mac = ex.mac;
  }
  r.bytes = dhcp::serialize(p, ex.max_size);
  ++counters_.sent[static_cast<std::size_t>(type)];
  sink_.send(r);
}

dhcp::Packet DhcpServer::replyPacket(const Exchange& ex, MessageType type, Ipv4 yiaddr) const {
  dhcp::Packet p;
  p.op = dhcp::kBootReply;
  p.htype = ex.in.htype;
  p.hlen = ex.in.hlen;
  p.xid = ex.in.xid;
  p.flags = ex.in.flags;
  p.giaddr = ex.in.giaddr;
  p.chaddr = ex.in.chaddr;
  if (type == MessageType::kAck) p.ciaddr = ex.in.ciaddr;
  p.yiaddr = yiaddr;
  p.setByte(opt::kMessageType, static_cast<std::uint8_t>(type));
  p.setU32(opt::kServerId, ex.arrival.server_id.value());
  const bool lease = type == MessageType::kOffer || (type == MessageType::kAck && yiaddr.value());
  if (lease) {
    const std::int64_t lease_s = ex.pool.dhcp->lease_s;
    p.setU32(opt::kLeaseTime, static_cast<std::uint32_t>(lease_s));
    p.setU32(opt::kRenewalTime, static_cast<std::uint32_t>(lease_s / 2));
    p.setU32(opt::kRebindingTime, static_cast<std::uint32_t>(lease_s * 7 / 8));
  }
  // RFC 6842: the client identifier comes back as it was sent.
  if (const dhcp::Option* id = ex.in.find(opt::kClientId)) p.set(id->code, id->data);
  return p;
}

void DhcpServer::addPoolOptions(const Exchange& ex, dhcp::Packet& p, Ipv4 yiaddr,
                                std::size_t budget) const {
  const ledger::PoolDhcp& d = *ex.pool.dhcp;
  const Ipv4 client = yiaddr.value() != 0 ? yiaddr : ex.in.ciaddr;
  int length = 24;
  for (const auto& c : ex.pool.cidrs)
    if (c.contains(addr::IpAddress(client))) length = c.length();
  const std::uint32_t mask = maskOf(length);
  // Asked-for options first, in the client's order; then the rest; each only if it fits.
  std::vector<std::uint8_t> order;
  if (const dhcp::Option* asked = ex.in.find(opt::kParameterList)) order = asked->data;
  for (std::uint8_t code : {opt::kSubnetMask, opt::kRouter, opt::kDnsServers, opt::kDomainName,
                            opt::kBroadcastAddress, opt::kNtpServers}) {
    if (std::find(order.begin(), order.end(), code) == order.end()) order.push_back(code);
  }
  auto v4 = [](const std::vector<addr::IpAddress>& list) {
    std::vector<Ipv4> out;
    for (const auto& ip : list) out.push_back(ip.v4());
    return out;
  };
  for (std::uint8_t code : order) {
    if (p.find(code) != nullptr) continue;  // asked for twice
    if (code == opt::kSubnetMask) p.setU32(code, mask);
    if (code == opt::kRouter && ex.pool.gateway && ex.pool.gateway->isV4())
      p.setU32(code, ex.pool.gateway->v4().value());
    if (code == opt::kDnsServers && !d.dns_servers.empty()) p.setAddresses(code, v4(d.dns_servers));
    if (code == opt::kNtpServers && !d.ntp_servers.empty()) p.setAddresses(code, v4(d.ntp_servers));
    if (code == opt::kDomainName && !d.domain.empty())
      p.set(code,
            std::span(reinterpret_cast<const std::uint8_t*>(d.domain.data()), d.domain.size()));
    if (code == opt::kBroadcastAddress) p.setU32(code, (client.value() & mask) | ~mask);
    if (!p.options.empty() && p.options.back().code == code && dhcp::encodedSize(p) > budget)
      p.options.pop_back();
  }
}

}  // namespace netledger::server
