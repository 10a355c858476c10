#include "addr/ipv4.h"

#include "addr/parse_error.h"

#include <optional>

namespace netledger::addr {

namespace {
constexpr std::string_view kIpv4What = "IPv4 address";
}

namespace {

// The success path, kept free of error wording so it stays small and fast; any doubt returns
// nullopt and the careful parser below explains what is wrong.
std::optional<std::uint32_t> parseIpv4Fast(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  std::uint32_t value = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (p == end) return std::nullopt;
    const char* start = p;
    unsigned v = static_cast<unsigned char>(*p) - '0';
    if (v > 9) return std::nullopt;
    ++p;
    unsigned d;
    if (p != end && (d = static_cast<unsigned char>(*p) - '0') <= 9) {
      v = v * 10 + d;
      ++p;
      if (p != end && (d = static_cast<unsigned char>(*p) - '0') <= 9) {
        v = v * 10 + d;
        ++p;
      }
    }
    if (v > 255 || (p - start > 1 && *start == '0')) return std::nullopt;
    value = (value << 8) | v;
    if (octet < 3) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return value;
}

}  // namespace

Result<Ipv4> Ipv4::parse(std::string_view text) {
  if (auto fast = parseIpv4Fast(text)) return Ipv4(*fast);
  if (text.empty()) return parseError(kIpv4What, text, "empty");
  std::uint32_t value = 0;
  std::size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size()) return parseError(kIpv4What, text, "expected 4 octets", i);
      if (text[i] != '.') return parseError(kIpv4What, text, "expected '.'", i);
      ++i;
    }
    std::size_t start = i;
    unsigned v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 4) {
      v = v * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    std::size_t digits = i - start;
    if (digits == 0) {
      if (i >= text.size()) return parseError(kIpv4What, text, "expected 4 octets", i);
      return parseError(kIpv4What, text, "expected a decimal octet", i);
    }
    if (digits > 3 || v > 255) {
      return parseError(kIpv4What, text, "octet " + std::to_string(octet + 1) + " is above 255",
                        start);
    }
    if (digits > 1 && text[start] == '0') {
      return parseError(kIpv4What, text,
                        "leading zero in octet " + std::to_string(octet + 1) +
                            " (ambiguous: octal in some tools)",
                        start);
    }
    value = (value << 8) | v;
  }
  if (i != text.size()) return parseError(kIpv4What, text, "unexpected text after the address", i);
  return Ipv4(value);
}

std::size_t Ipv4::format(char* out) const {
  char* p = out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    unsigned v = (value_ >> shift) & 0xff;
    if (v >= 100) {
      *p++ = static_cast<char>('0' + v / 100);
      *p++ = static_cast<char>('0' + v / 10 % 10);
    } else if (v >= 10) {
      *p++ = static_cast<char>('0' + v / 10);
    }
    *p++ = static_cast<char>('0' + v % 10);
    if (shift > 0) *p++ = '.';
  }
  return static_cast<std::size_t>(p - out);
}

std::string Ipv4::toString() const {
  char buf[16];
  return std::string(buf, format(buf));
}

}  // namespace netledger::addr
