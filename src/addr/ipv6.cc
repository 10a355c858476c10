#include "addr/ipv6.h"

#include "addr/ipv4.h"
#include "addr/parse_error.h"

namespace netledger::addr {

namespace {

constexpr std::string_view kIpv6What = "IPv6 address";
// The longest valid text is "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" (45 chars).
constexpr std::size_t kMaxTextLength = 45;

}  // namespace

Ipv6 Ipv6::fromBytes(const std::array<std::uint8_t, 16>& bytes) {
  uint128 v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  return Ipv6(v);
}

std::array<std::uint8_t, 16> Ipv6::toBytes() const {
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<std::uint8_t>(value_ >> (120 - 8 * i));
  return out;
}

Result<Ipv6> Ipv6::parse(std::string_view text) {
  if (text.empty()) return parseError(kIpv6What, text, "empty");
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    return parseError(kIpv6What, text, "zone index not allowed", pct);
  }
  if (text.size() > kMaxTextLength) {
    return parseError(kIpv6What, text, "too long (" + std::to_string(text.size()) + " characters)");
  }
  std::uint16_t groups[8] = {};
  int count = 0;  // groups written so far
  int gap = -1;   // index in `groups` where "::" stands
  std::size_t i = 0;
  if (text.size() >= 2 && text[0] == ':' && text[1] == ':') {
    gap = 0;
    i = 2;
  } else if (text[0] == ':') {
    return parseError(kIpv6What, text, "a single leading ':' (did you mean '::'?)", 0);
  }
  while (i < text.size()) {
    if (count == 8) return parseError(kIpv6What, text, "more than 8 groups", i);
    std::size_t start = i;
    unsigned v = 0;
    while (i < text.size() && hexDigitValue(text[i]) >= 0 && i - start < 5) {
      v = (v << 4) | static_cast<unsigned>(hexDigitValue(text[i]));
      ++i;
    }
    if (i < text.size() && text[i] == '.') {
      // Embedded IPv4: must be the last 32 bits.
      if (count > 6)
        return parseError(kIpv6What, text, "embedded IPv4 needs room for 2 groups", start);
      auto v4 = Ipv4::parse(text.substr(start));
      if (!v4) {
        return parseError(kIpv6What, text, "bad embedded IPv4 (" + v4.status().message() + ")",
                          start);
      }
      groups[count++] = static_cast<std::uint16_t>(v4->value() >> 16);
      groups[count++] = static_cast<std::uint16_t>(v4->value());
      i = text.size();
      break;
    }
    std::size_t digits = i - start;
    if (digits == 0) return parseError(kIpv6What, text, "expected a hex group", i);
    if (digits > 4) return parseError(kIpv6What, text, "group has more than 4 hex digits", start);
    groups[count++] = static_cast<std::uint16_t>(v);
    if (i == text.size()) break;
    if (text[i] != ':') return parseError(kIpv6What, text, "unexpected character", i);
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (gap >= 0) return parseError(kIpv6What, text, "'::' appears more than once", i - 1);
      gap = count;
      ++i;
    } else if (i == text.size()) {
      return parseError(kIpv6What, text, "trailing ':'", i - 1);
    }
  }
  if (gap < 0 && count != 8) {
    return parseError(kIpv6What, text, "expected 8 groups, found " + std::to_string(count));
  }
  if (gap >= 0 && count == 8) {
    return parseError(kIpv6What, text, "'::' with 8 groups already present");
  }
  uint128 value = 0;
  int fill = gap >= 0 ? 8 - count : 0;
  for (int g = 0, out = 0; out < 8; ++out) {
    std::uint16_t part = 0;
    if (gap >= 0 && out >= gap && out < gap + fill) {
      part = 0;
    } else {
      part = groups[g++];
    }
    value = (value << 16) | part;
  }
  return Ipv6(value);
}

std::size_t Ipv6::format(char* out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  char* p = out;
  // IPv4-mapped (::ffff:0:0/96): RFC 5952 section 5 recommends the mixed notation.
  if ((value_ >> 32) == 0xffff) {
    const char prefix[] = "::ffff:";
    for (const char* s = prefix; *s; ++s) *p++ = *s;
    p += Ipv4(static_cast<std::uint32_t>(value_)).format(p);
    return static_cast<std::size_t>(p - out);
  }
  int best_start = -1, best_len = 0;
  for (int g = 0; g < 8;) {
    if (group(g) != 0) {
      ++g;
      continue;
    }
    int start = g;
    while (g < 8 && group(g) == 0) ++g;
    if (g - start > best_len) {
      best_start = start;
      best_len = g - start;
    }
  }
  if (best_len < 2) best_start = -1;  // RFC 5952 4.2.2: never "::" for a single zero group
  for (int g = 0; g < 8; ++g) {
    if (g == best_start) {
      *p++ = ':';
      *p++ = ':';
      g += best_len - 1;
      continue;
    }
    if (g > 0 && g != best_start + best_len) *p++ = ':';
    unsigned v = group(g);
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nib = (v >> shift) & 15;
      if (nib != 0 || started || shift == 0) {
        *p++ = kHex[nib];
        started = true;
      }
    }
  }
  return static_cast<std::size_t>(p - out);
}

std::string Ipv6::toString() const {
  char buf[48];
  return std::string(buf, format(buf));
}

}  // namespace netledger::addr
