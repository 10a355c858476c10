#include "dhcp/packet.h"

#include <algorithm>
#include <cstring>

namespace netledger::dhcp {
namespace {

constexpr std::uint8_t kMagic[4] = {99, 130, 83, 99};
constexpr std::size_t kSnameOffset = 44, kSnameSize = 64;
constexpr std::size_t kFileOffset = 108, kFileSize = 128;

std::uint32_t readU32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

void putU32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// Appends each option of one field to `out`, joining repeated codes (RFC 3396). Stops at END;
// a field may also simply run out (padding is optional after the last option).
ParseError readOptions(std::span<const std::uint8_t> field, std::vector<Option>& out) {
  std::size_t i = 0;
  while (i < field.size()) {
    const std::uint8_t code = field[i++];
    if (code == opt::kPad) continue;
    if (code == opt::kEnd) return ParseError::kNone;
    if (i >= field.size()) return ParseError::kOptionOverrun;
    const std::size_t len = field[i++];
    if (len > field.size() - i) return ParseError::kOptionOverrun;
    auto it = std::find_if(out.begin(), out.end(), [&](const Option& o) { return o.code == code; });
    if (it == out.end()) it = out.insert(out.end(), Option{code, {}});
    it->data.insert(it->data.end(), field.begin() + static_cast<std::ptrdiff_t>(i),
                    field.begin() + static_cast<std::ptrdiff_t>(i + len));
    i += len;
  }
  return ParseError::kNone;
}

// Option 52: 1 = `file` holds options, 2 = `sname`, 3 = both (file first, RFC 2131 4.1).
ParseError readOverloaded(std::span<const std::uint8_t> bytes, Packet& out) {
  const Option* overload = out.find(opt::kOverload);
  if (overload == nullptr) return ParseError::kNone;
  if (overload->data.size() != 1 || overload->data[0] < 1 || overload->data[0] > 3)
    return ParseError::kBadOverload;
  const std::uint8_t which = overload->data[0];
  if ((which & 1) != 0) {
    ParseError e = readOptions(bytes.subspan(kFileOffset, kFileSize), out.options);
    if (e != ParseError::kNone) return e;
  }
  if ((which & 2) != 0) return readOptions(bytes.subspan(kSnameOffset, kSnameSize), out.options);
  return ParseError::kNone;
}

void readHeader(const std::uint8_t* b, Packet& out) {
  out.op = b[0];
  out.htype = b[1];
  out.hlen = b[2];
  out.hops = b[3];
  out.xid = readU32(b + 4);
  out.secs = static_cast<std::uint16_t>((b[8] << 8) | b[9]);
  out.flags = static_cast<std::uint16_t>((b[10] << 8) | b[11]);
  out.ciaddr = addr::Ipv4(readU32(b + 12));
  out.yiaddr = addr::Ipv4(readU32(b + 16));
  out.siaddr = addr::Ipv4(readU32(b + 20));
  out.giaddr = addr::Ipv4(readU32(b + 24));
  std::memcpy(out.chaddr.data(), b + 28, out.chaddr.size());
}

void writeHeader(const Packet& p, std::uint8_t* b) {
  b[0] = p.op;
  b[1] = p.htype;
  b[2] = p.hlen;
  b[3] = p.hops;
  putU32(b + 4, p.xid);
  b[8] = static_cast<std::uint8_t>(p.secs >> 8);
  b[9] = static_cast<std::uint8_t>(p.secs);
  b[10] = static_cast<std::uint8_t>(p.flags >> 8);
  b[11] = static_cast<std::uint8_t>(p.flags);
  putU32(b + 12, p.ciaddr.value());
  putU32(b + 16, p.yiaddr.value());
  putU32(b + 20, p.siaddr.value());
  putU32(b + 24, p.giaddr.value());
  std::memcpy(b + 28, p.chaddr.data(), p.chaddr.size());
  std::memcpy(b + kFixedSize, kMagic, sizeof kMagic);
}

// The bytes `o` takes on the wire: split into parts of at most 255 (RFC 3396); an empty
// option still takes its code and a zero length.
std::size_t wireSize(const Option& o) {
  const std::size_t parts = o.data.empty() ? 1 : (o.data.size() + 254) / 255;
  return o.data.size() + 2 * parts;
}

void writeOption(const Option& o, std::vector<std::uint8_t>& out) {
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(255, o.data.size() - at);
    out.push_back(o.code);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), o.data.begin() + static_cast<std::ptrdiff_t>(at),
               o.data.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  } while (at < o.data.size());
}

}  // namespace

std::string_view messageTypeName(MessageType t) {
  static constexpr std::string_view kNames[] = {"DISCOVER", "OFFER", "REQUEST", "DECLINE",
                                                "ACK",      "NAK",   "RELEASE", "INFORM"};
  const auto i = static_cast<std::size_t>(t);
  return i >= 1 && i <= 8 ? kNames[i - 1] : std::string_view("UNKNOWN");
}

std::string_view parseErrorName(ParseError e) {
  static constexpr std::string_view kNames[kParseErrorCount] = {
      "none", "truncated", "oversized", "bad_magic", "option_overrun", "bad_overload"};
  return kNames[static_cast<std::size_t>(e)];
}

const Option* Packet::find(std::uint8_t code) const {
  for (const Option& o : options)
    if (o.code == code) return &o;
  return nullptr;
}

void Packet::set(std::uint8_t code, std::span<const std::uint8_t> data) {
  for (Option& o : options) {
    if (o.code == code) {
      o.data.assign(data.begin(), data.end());
      return;
    }
  }
  options.push_back(Option{code, {data.begin(), data.end()}});
}

void Packet::setByte(std::uint8_t code, std::uint8_t value) { set(code, {&value, 1}); }

void Packet::setU16(std::uint8_t code, std::uint16_t value) {
  const std::uint8_t b[2] = {static_cast<std::uint8_t>(value >> 8),
                             static_cast<std::uint8_t>(value)};
  set(code, b);
}

void Packet::setU32(std::uint8_t code, std::uint32_t value) {
  std::uint8_t b[4];
  putU32(b, value);
  set(code, b);
}

void Packet::setAddresses(std::uint8_t code, std::span<const addr::Ipv4> addresses) {
  std::vector<std::uint8_t> b(addresses.size() * 4);
  for (std::size_t i = 0; i < addresses.size(); ++i) putU32(&b[i * 4], addresses[i].value());
  set(code, b);
}

std::optional<MessageType> Packet::messageType() const {
  const Option* o = find(opt::kMessageType);
  if (o == nullptr || o->data.size() != 1 || o->data[0] < 1 || o->data[0] > 8) return std::nullopt;
  return static_cast<MessageType>(o->data[0]);
}

std::optional<addr::Ipv4> Packet::address(std::uint8_t code) const {
  const Option* o = find(code);
  if (o == nullptr || o->data.size() != 4) return std::nullopt;
  return addr::Ipv4(readU32(o->data.data()));
}

std::optional<std::uint16_t> Packet::u16(std::uint8_t code) const {
  const Option* o = find(code);
  if (o == nullptr || o->data.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((o->data[0] << 8) | o->data[1]);
}

std::optional<addr::Mac> Packet::mac() const {
  if (htype != 1 || hlen != 6) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | chaddr[static_cast<std::size_t>(i)];
  return addr::Mac(v);
}

ParseError parse(std::span<const std::uint8_t> bytes, Packet& out) {
  if (bytes.size() > kMaxPacket) return ParseError::kOversized;
  if (bytes.size() < kMinPacket) return ParseError::kTruncated;
  if (std::memcmp(bytes.data() + kFixedSize, kMagic, sizeof kMagic) != 0)
    return ParseError::kBadMagic;
  readHeader(bytes.data(), out);
  out.options.clear();
  ParseError e = readOptions(bytes.subspan(kMinPacket), out.options);
  if (e != ParseError::kNone) return e;
  return readOverloaded(bytes, out);
}

std::size_t encodedSize(const Packet& p) {
  std::size_t n = kMinPacket + 1;  // the header, the cookie and END
  for (const Option& o : p.options)
    if (o.code != opt::kPad && o.code != opt::kEnd) n += wireSize(o);
  return n;
}

std::vector<std::uint8_t> serialize(const Packet& p, std::size_t max_size) {
  // The size is the IP datagram's (RFC 2131 section 2: 576 = 236 fixed + 312 options + 28 of
  // IP and UDP headers), so the DHCP message gets 28 bytes less.
  const std::size_t limit = messageLimit(max_size);
  std::vector<std::uint8_t> out(kMinPacket, 0);
  writeHeader(p, out.data());
  for (const Option& o : p.options) {
    if (o.code == opt::kPad || o.code == opt::kEnd) continue;
    if (out.size() + wireSize(o) + 1 > limit) continue;  // +1: END must still fit
    writeOption(o, out);
  }
  out.push_back(opt::kEnd);
  if (out.size() < kBootpMinimum) out.resize(kBootpMinimum, 0);
  return out;
}

}  // namespace netledger::dhcp
