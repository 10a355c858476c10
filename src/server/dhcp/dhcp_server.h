#pragma once
// DhcpServer: DHCPv4 (RFC 2131) served from the ledger. A lease is a binding of a DHCP-enabled
// pool (`source: dhcp` in its labels, with the client identifier and the relay), so it is
// audited, in the history and checked against the wire like any other.
//
//   DISCOVER  the client's binding in the link's pool (a static reservation is just a binding
//             with its MAC), else the requested address if free, else the pool's next: a new
//             binding `reserved` for `kOfferHoldSeconds` (the offer's reservation). Probed on
//             the serving interface first when the pool says so: an address that answers goes
//             to quarantine, the answering station to the engine (unknown_station), and the
//             next address is tried.
//   REQUEST   SELECTING (server id: ours, else silence), INIT-REBOOT (requested address, no
//             ciaddr), RENEWING / REBINDING (ciaddr): the binding is activated and its lease
//             renewed, and the ACK leaves only once that is durable. A wrong address or
//             network gets a NAK.
//   RELEASE   the binding is released (its address to quarantine). No reply.
//   DECLINE   the address is in use on the wire: released to quarantine and reported to the
//             engine; a client over its decline budget gets no offers for the back-off.
//   INFORM    the pool's options, no lease.
//
// Replies go to a ReplySink with their destination chosen per RFC 2131 section 4.1. Every
// dropped packet is counted by reason. Thread-safe: receive() may be called from several I/O
// threads; ledger answers arrive on the commit thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "addr/ipv4.h"
#include "addr/mac.h"
#include "common/clock.h"
#include "dhcp/packet.h"
#include "engine/engine.h"
#include "ledger/model.h"
#include "server/dhcp/dhcp_ledger.h"

namespace netledger::server {

// Where a packet arrived.
struct DhcpArrival {
  std::string interface;  // the serving interface; "" on the relay socket
  addr::Ipv4 server_id;   // our address there: the server identifier (option 54)
};

enum class ReplyTo : std::uint8_t {
  kRelay,      // `address` = giaddr, UDP port 67
  kClient,     // `address` = ciaddr, UDP port 68
  kBroadcast,  // 255.255.255.255:68 out of `interface`
  kHardware,   // `address` = yiaddr at `mac`, out of `interface`, before the client has an ARP
               // entry for us (the sink must not ARP for it)
};

struct DhcpReply {
  std::vector<std::uint8_t> bytes;
  ReplyTo to = ReplyTo::kBroadcast;
  std::string interface;
  addr::Ipv4 address;
  addr::Mac mac;
  dhcp::MessageType type = dhcp::MessageType::kOffer;
};

class DhcpReplySink {
 public:
  virtual ~DhcpReplySink() = default;
  virtual void send(const DhcpReply& reply) = 0;  // thread-safe
};

// An address check on the wire from `interface` (RFC 5227 style): `done` once, with the MAC
// that answered or nullopt when nothing did.
class DhcpProber {
 public:
  virtual ~DhcpProber() = default;
  virtual void probe(const std::string& interface, addr::Ipv4 target,
                     std::function<void(std::optional<addr::Mac>)> done) = 0;
};

// Why a packet got no answer (the metric's reason label).
enum class DhcpDrop : std::uint8_t {
  kMalformed,       // the codec refused it (dhcp::ParseError counted apart)
  kNotRequest,      // op BOOTREPLY, no or bad message type, or a server-only type
  kNoHardware,      // htype/hlen other than Ethernet's
  kNoPool,          // no DHCP-enabled pool on the link
  kOtherServer,     // a REQUEST for another server's offer
  kDeclineBackoff,  // the client is over its decline budget
  kExhausted,       // no free address
  kLedgerError,     // the ledger refused a write (logged)
  kProbeInUse,      // every address tried answered the probe
  kUnknownLease,    // RELEASE/DECLINE of an address the client does not hold; INIT-REBOOT
                    // with no record of the client (RFC 2131 4.3.2: silence)
  kClientIdInUse,   // another MAC holds a lease under this client identifier
  kMacHeld,         // the client's MAC is a binding's made outside DHCP, not in this pool
};
inline constexpr std::size_t kDhcpDropCount = 12;
std::string_view dhcpDropName(DhcpDrop d);

struct DhcpCounters {
  std::array<std::atomic<std::uint64_t>, 9> received{};  // by message type (0: none)
  std::array<std::atomic<std::uint64_t>, 9> sent{};
  std::array<std::atomic<std::uint64_t>, dhcp::kParseErrorCount> malformed{};
  std::array<std::atomic<std::uint64_t>, kDhcpDropCount> dropped{};
  std::atomic<std::uint64_t> probes_in_use{0};
  std::atomic<std::uint64_t> declines{0};
};

class DhcpServer {
  using Millis = ledger::Millis;

 public:
  static constexpr std::int64_t kOfferHoldSeconds = 60;
  static constexpr int kProbeAttempts = 3;

  // Every reference (and `engine`, `prober` when not null) must outlive the server. `node`
  // is the host recorded in the bindings.
  DhcpServer(DhcpLedger& ledger, Clock& clock, DhcpReplySink& sink, DhcpProber* prober,
             engine::Engine* engine, std::string node);

  void receive(std::span<const std::uint8_t> bytes, const DhcpArrival& arrival);
  const DhcpCounters& counters() const { return counters_; }

 private:
  struct Exchange;
  struct Decliner {
    std::deque<Millis> declines;
    Millis backoff_until = 0;
  };

  void dispatch(Exchange& ex);
  void discover(Exchange& ex);
  void request(Exchange& ex);
  void requestSelecting(Exchange& ex);
  void requestKnownAddress(Exchange& ex, addr::Ipv4 address, bool init_reboot);
  void release(Exchange& ex);
  void decline(Exchange& ex);
  void inform(Exchange& ex);

  // The pool serving `link` (refreshed from the ledger at most once a second).
  std::optional<ledger::PoolRecord> poolFor(addr::Ipv4 link);
  // The client's binding (by its MAC) and its address in the exchange's pool, if any.
  std::optional<ledger::BindingRecord> clientBinding(const Exchange& ex) const;
  std::optional<addr::Ipv4> addressIn(const ledger::BindingRecord& b,
                                      const ledger::PoolRecord& pool) const;
  // A new binding for the client: `wanted` if free, else (when `or_any`) the pool's next.
  Result<ledger::Applied<ledger::BindingRecord>> allocateFor(Exchange& ex,
                                                             std::optional<addr::Ipv4> wanted,
                                                             bool or_any);
  Status retireOtherLease(Exchange& ex);
  Result<ledger::Applied<ledger::BindingRecord>> checkNew(
      Result<ledger::Applied<ledger::BindingRecord>> made);
  void offer(std::shared_ptr<Exchange> ex, std::uint64_t id, addr::Ipv4 address, int attempt);
  void skip(const std::shared_ptr<Exchange>& ex, std::uint64_t id, addr::Ipv4 address, int attempt);
  void probed(const std::shared_ptr<Exchange>& ex, std::uint64_t id, addr::Ipv4 address,
              int attempt, std::optional<addr::Mac> answer);
  // Activates and renews `b`, then sends the ACK for `address` once that is durable.
  void lease(Exchange& ex, const ledger::BindingRecord& b, addr::Ipv4 address);
  // The ACK once every ticket is durable, in order; none if one fails.
  void ackWhenDurable(std::shared_ptr<Exchange> ex, addr::Ipv4 address,
                      std::vector<std::uint64_t> tickets);
  void nak(Exchange& ex, std::string_view why);
  void reply(Exchange& ex, dhcp::MessageType type, addr::Ipv4 yiaddr);
  dhcp::Packet replyPacket(const Exchange& ex, dhcp::MessageType type, addr::Ipv4 yiaddr) const;
  // The pool's options that fit in `budget` bytes of message.
  void addPoolOptions(const Exchange& ex, dhcp::Packet& p, addr::Ipv4 yiaddr,
                      std::size_t budget) const;
  void drop(DhcpDrop why) { ++counters_.dropped[static_cast<std::size_t>(why)]; }
  void reportStation(const Exchange& ex, addr::Ipv4 address, addr::Mac mac);
  // Records a decline; true when the client is now over its budget.
  bool noteDecline(const Exchange& ex);
  engine::Engine::Report declineReport(const Exchange& ex, addr::Ipv4 address) const;
  void reportDecline(const Exchange& ex, addr::Ipv4 address);
  void reportBackoff(const Exchange& ex, addr::Ipv4 address);
  bool inBackoff(const Exchange& ex);

  DhcpLedger& ledger_;
  Clock& clock_;
  DhcpReplySink& sink_;
  DhcpProber* prober_;
  engine::Engine* engine_;
  const std::string node_;
  const ledger::Actor actor_;
  DhcpCounters counters_;

  std::mutex pools_mu_;
  std::vector<ledger::PoolRecord> pools_;
  Millis pools_read_ = -1;

  std::mutex decline_mu_;
  std::map<std::string, Decliner> decliners_;  // by client instance name
};

}  // namespace netledger::server
