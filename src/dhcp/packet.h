#pragma once
// DHCPv4 messages (RFC 2131 section 2, options RFC 2132): a parser that never reads past its
// input and says why it dropped a packet, and a serializer that honours the client's maximum
// message size.
//
// - Options are kept in arrival order, one entry per code: the parts of an option that appears
//   more than once (RFC 3396 long options) are concatenated.
// - Option overload (52) is read only from the options field, so the `file` and `sname` fields
//   are scanned at most once each: a packet cannot make the parser loop.
// - serialize() writes the options in the order given, splits any longer than 255 bytes
//   (RFC 3396), ends with END and pads to the BOOTP minimum of 300 bytes. `max_size` is the
//   client's maximum IP datagram (option 57, at least 576): an option that would not fit in it
//   is left out (later, smaller ones may still fit), so put the essential ones first.
//
//   dhcp::Packet p;
//   if (dhcp::parse(bytes, p) != dhcp::ParseError::kNone) { count and drop }
//   if (p.messageType() == dhcp::MessageType::kDiscover) { ... }

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "addr/ipv4.h"
#include "addr/mac.h"

namespace netledger::dhcp {

enum class MessageType : std::uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};
std::string_view messageTypeName(MessageType t);

// Option codes this server reads or writes.
namespace opt {
inline constexpr std::uint8_t kPad = 0;
inline constexpr std::uint8_t kSubnetMask = 1;
inline constexpr std::uint8_t kRouter = 3;
inline constexpr std::uint8_t kDnsServers = 6;
inline constexpr std::uint8_t kHostName = 12;
inline constexpr std::uint8_t kDomainName = 15;
inline constexpr std::uint8_t kBroadcastAddress = 28;
inline constexpr std::uint8_t kNtpServers = 42;
inline constexpr std::uint8_t kRequestedAddress = 50;
inline constexpr std::uint8_t kLeaseTime = 51;
inline constexpr std::uint8_t kOverload = 52;
inline constexpr std::uint8_t kMessageType = 53;
inline constexpr std::uint8_t kServerId = 54;
inline constexpr std::uint8_t kParameterList = 55;
inline constexpr std::uint8_t kMessage = 56;
inline constexpr std::uint8_t kMaxMessageSize = 57;
inline constexpr std::uint8_t kRenewalTime = 58;
inline constexpr std::uint8_t kRebindingTime = 59;
inline constexpr std::uint8_t kClientId = 61;
inline constexpr std::uint8_t kRelayAgentInfo = 82;
inline constexpr std::uint8_t kEnd = 255;
}  // namespace opt

inline constexpr std::uint8_t kBootRequest = 1;
inline constexpr std::uint8_t kBootReply = 2;
inline constexpr std::uint16_t kBroadcastFlag = 0x8000;
inline constexpr std::size_t kFixedSize = 236;             // up to the magic cookie
inline constexpr std::size_t kMinPacket = kFixedSize + 4;  // with the cookie
inline constexpr std::size_t kMaxPacket = 8192;            // larger is refused (kOversized)
inline constexpr std::size_t kBootpMinimum = 300;          // replies are padded to this
inline constexpr std::size_t kDefaultMaxMessage = 576;     // RFC 2131: every client takes this
inline constexpr std::size_t kIpUdpHeaders = 28;           // of an IP datagram's size

struct Option {
  std::uint8_t code = 0;
  std::vector<std::uint8_t> data;
};

struct Packet {
  std::uint8_t op = kBootRequest;
  std::uint8_t htype = 1;  // Ethernet
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  addr::Ipv4 ciaddr, yiaddr, siaddr, giaddr;
  std::array<std::uint8_t, 16> chaddr{};
  std::vector<Option> options;

  const Option* find(std::uint8_t code) const;
  // Adds `code` or replaces its data.
  void set(std::uint8_t code, std::span<const std::uint8_t> data);
  void setByte(std::uint8_t code, std::uint8_t value);
  void setU16(std::uint8_t code, std::uint16_t value);
  void setU32(std::uint8_t code, std::uint32_t value);
  void setAddresses(std::uint8_t code, std::span<const addr::Ipv4> addresses);

  // Absent or malformed (a length other than the option's) read as nullopt.
  std::optional<MessageType> messageType() const;
  std::optional<addr::Ipv4> address(std::uint8_t code) const;
  std::optional<std::uint16_t> u16(std::uint8_t code) const;
  // The Ethernet client hardware address (nullopt unless htype 1, hlen 6).
  std::optional<addr::Mac> mac() const;
  bool broadcast() const { return (flags & kBroadcastFlag) != 0; }
};

enum class ParseError : std::uint8_t {
  kNone,
  kTruncated,      // shorter than the fixed header and cookie
  kOversized,      // longer than kMaxPacket
  kBadMagic,       // not 99.130.83.99 after the header
  kOptionOverrun,  // an option's length runs past its field
  kBadOverload,    // option 52 with a length other than 1 or a value other than 1..3
};
inline constexpr std::size_t kParseErrorCount = 6;
// "truncated", "oversized", ... (metric labels).
std::string_view parseErrorName(ParseError e);

// Fills `out` from `bytes`; on an error `out` is unspecified.
ParseError parse(std::span<const std::uint8_t> bytes, Packet& out);

// The bytes serialize() writes for `p` with no size limit, before padding.
std::size_t encodedSize(const Packet& p);
// The largest DHCP message (UDP payload) a client accepts whose option 57 says `max_size`.
inline std::size_t messageLimit(std::size_t max_size) {
  return (max_size > kDefaultMaxMessage ? max_size : kDefaultMaxMessage) - kIpUdpHeaders;
}

// The wire form of `p`, at most max(max_size, kDefaultMaxMessage) - 28 bytes.
std::vector<std::uint8_t> serialize(const Packet& p, std::size_t max_size = kDefaultMaxMessage);

}  // namespace netledger::dhcp
