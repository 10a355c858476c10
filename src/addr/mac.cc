#include "addr/mac.h"

#include <array>
#include <charconv>
#include <optional>

#include "addr/parse_error.h"

namespace netledger::addr {

namespace {

constexpr std::string_view kMacWhat = "MAC address";

// Hex digit values, 0xff for anything else: table look-ups instead of branches, because random
// hex digits defeat the branch predictor (this halved the parse time).
constexpr std::array<std::uint8_t, 256> kHexTable = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::uint8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<std::uint8_t>(10 + c);
    t['A' + c] = static_cast<std::uint8_t>(10 + c);
  }
  return t;
}();

// Decodes `count` hex digits starting at `p`, every `stride` characters in groups of `group`
// digits; `bad` collects 0xf0 bits if any character was not hex.
inline std::uint64_t decodeHex(const char* p, int groups, int group, int stride,
                               std::uint8_t& bad) {
  std::uint64_t v = 0;
  for (int g = 0; g < groups; ++g) {
    for (int k = 0; k < group; ++k) {
      std::uint8_t h = kHexTable[static_cast<unsigned char>(p[g * stride + k])];
      bad |= h;
      v = (v << 4) | (h & 15);
    }
  }
  return v;
}

// The success path for the four forms; nullopt sends the input to the careful parser, which
// words the error.
std::optional<std::uint64_t> parseMacFast(std::string_view t) {
  std::uint8_t bad = 0;
  std::uint64_t v;
  switch (t.size()) {
    case 17: {
      char sep = t[2];
      if (sep != ':' && sep != '-') return std::nullopt;
      bool seps = t[5] == sep && t[8] == sep && t[11] == sep && t[14] == sep;
      v = decodeHex(t.data(), 6, 2, 3, bad);
      if (!seps) return std::nullopt;
      break;
    }
    case 14:
      if (t[4] != '.' || t[9] != '.') return std::nullopt;
      v = decodeHex(t.data(), 3, 4, 5, bad);
      break;
    case 12:
      v = decodeHex(t.data(), 1, 12, 0, bad);
      break;
    default:
      return std::nullopt;
  }
  if (bad & 0xf0) return std::nullopt;
  return v;
}

// Reads `count` hex digits at `pos`; on failure sets `bad` to the offending position.
bool readHex(std::string_view text, std::size_t pos, int count, std::uint64_t& value,
             std::size_t& bad) {
  for (int k = 0; k < count; ++k) {
    int h = hexDigitValue(text[pos + k]);
    if (h < 0) {
      bad = pos + k;
      return false;
    }
    value = (value << 4) | static_cast<unsigned>(h);
  }
  return true;
}

// Octet-separated form: 6 groups of 2 hex digits separated by `sep` (':' or '-').
Result<Mac> parseSeparated(std::string_view text, char sep) {
  std::uint64_t v = 0;
  std::size_t bad = 0;
  for (int i = 0; i < 6; ++i) {
    std::size_t pos = static_cast<std::size_t>(i) * 3;
    if (!readHex(text, pos, 2, v, bad)) {
      return parseError(kMacWhat, text, "expected two hex digits per octet", bad);
    }
    if (i < 5 && text[pos + 2] != sep) {
      return parseError(kMacWhat, text,
                        std::string("expected '") + sep + "' (separators must not be mixed)",
                        pos + 2);
    }
  }
  return Mac(v);
}

}  // namespace

Result<Mac> Mac::parse(std::string_view text) {
  if (auto fast = parseMacFast(text)) return Mac(*fast);
  constexpr std::string_view kForms =
      " (expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff)";
  if (text.empty()) return parseError(kMacWhat, text, "empty");
  // The form is chosen by the first separator, so the error speaks of the form the user meant.
  std::size_t sep_pos = text.find_first_of(":-.");
  std::size_t bad = 0;
  std::uint64_t v = 0;
  if (sep_pos == std::string_view::npos) {
    if (text.size() != 12) {
      return parseError(kMacWhat, text,
                        "wrong length " + std::to_string(text.size()) + std::string(kForms));
    }
    if (!readHex(text, 0, 12, v, bad))
      return parseError(kMacWhat, text, "expected a hex digit", bad);
    return Mac(v);
  }
  if (text[sep_pos] == '.') {
    if (text.size() != 14) {
      return parseError(
          kMacWhat, text,
          "wrong length " + std::to_string(text.size()) + " for the aabb.ccdd.eeff form");
    }
    for (int i = 0; i < 3; ++i) {
      std::size_t pos = static_cast<std::size_t>(i) * 5;
      if (!readHex(text, pos, 4, v, bad)) {
        return parseError(kMacWhat, text, "expected four hex digits per group", bad);
      }
      if (i < 2 && text[pos + 4] != '.') return parseError(kMacWhat, text, "expected '.'", pos + 4);
    }
    return Mac(v);
  }
  if (text.size() != 17) {
    return parseError(kMacWhat, text,
                      "wrong length " + std::to_string(text.size()) + " for the " +
                          (text[sep_pos] == ':' ? "aa:bb:cc:dd:ee:ff" : "aa-bb-cc-dd-ee-ff") +
                          " form (six octets of two hex digits)");
  }
  return parseSeparated(text, text[2] == '-' ? '-' : ':');
}

std::size_t Mac::format(char* out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 6; ++i) {
    std::uint8_t o = octet(i);
    out[i * 3] = kHex[o >> 4];
    out[i * 3 + 1] = kHex[o & 15];
    if (i < 5) out[i * 3 + 2] = ':';
  }
  return 17;
}

std::string Mac::toString() const {
  char buf[17];
  return std::string(buf, format(buf));
}

std::string Mac::ouiString() const { return toString().substr(0, 8); }

std::uint64_t Mac::modifiedEui64() const {
  std::uint64_t upper = value_ >> 24;  // first three octets
  std::uint64_t lower = value_ & 0xffffff;
  std::uint64_t id = (upper << 40) | (std::uint64_t{0xfffe} << 24) | lower;
  return id ^ (std::uint64_t{0x02} << 56);  // invert U/L: RFC 4291 section 2.5.1
}

std::string Mac::modifiedEui64String() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t id = modifiedEui64();
  std::string out;
  for (int g = 0; g < 4; ++g) {
    if (g > 0) out += ':';
    for (int n = 0; n < 4; ++n) out += kHex[(id >> (60 - 16 * g - 4 * n)) & 15];
  }
  return out;
}

Result<Ipv6> slaacAddress(const Prefix& prefix, Mac mac) {
  if (prefix.family() != IpFamily::kV6 || prefix.length() != 64) {
    return Status::invalidArgument("prefix " + prefix.toString() +
                                   ": SLAAC with a MAC-derived interface id needs an IPv6 /64");
  }
  return Ipv6(prefix.network().bits() | mac.modifiedEui64());
}

Result<MacPrefix> MacPrefix::make(Mac base, int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    return Status::invalidArgument("MAC prefix length " + std::to_string(bits) +
                                   " is out of range 8..44");
  }
  std::uint64_t suffix_mask = (std::uint64_t{1} << (48 - bits)) - 1;
  if ((base.value() & suffix_mask) != 0) {
    MacPrefix hint(Mac(base.value() & ~suffix_mask), bits);
    return Status::invalidArgument("MAC prefix " + base.toString() + "/" + std::to_string(bits) +
                                   ": bits set past the prefix; did you mean " + hint.toString() +
                                   "?");
  }
  if (base.isMulticast()) {
    return Status::invalidArgument("MAC prefix " + base.toString() + "/" + std::to_string(bits) +
                                   ": the multicast bit is set, so every MAC would be multicast");
  }
  return MacPrefix(base, bits);
}

Result<MacPrefix> MacPrefix::parse(std::string_view text) {
  constexpr std::string_view what = "MAC prefix";
  std::string_view octets = text;
  int bits = -1;
  bool has_length = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    has_length = true;
    octets = text.substr(0, slash);
    std::string_view len = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size()) {
      return parseError(what, text, "length must be a decimal number", slash + 1);
    }
  }
  // 1 to 6 octets of two hex digits, separated by ':' or '-'.
  std::uint64_t v = 0;
  int count = 0;
  std::size_t pos = 0;
  char sep = 0;
  while (true) {
    if (pos + 2 > octets.size()) return parseError(what, text, "expected two hex digits", pos);
    std::size_t bad = 0;
    if (!readHex(octets, pos, 2, v, bad))
      return parseError(what, text, "expected a hex digit", bad);
    ++count;
    pos += 2;
    if (pos == octets.size()) break;
    if (count == 6) return parseError(what, text, "more than 6 octets", pos);
    char c = octets[pos];
    if ((c != ':' && c != '-') || (sep != 0 && c != sep)) {
      return parseError(what, text, "expected ':' between octets", pos);
    }
    sep = c;
    ++pos;
  }
  if (!has_length) {
    bits = count * 8;
    if (bits > kMaxBits) {
      return parseError(what, text, "a full MAC is not a prefix; add /length (8..44)");
    }
  }
  v <<= 8 * (6 - count);  // "02:00:00/28": the octets not written are zero
  return make(Mac(v), bits);
}

std::string MacPrefix::toString() const {
  int octets = (bits_ + 7) / 8;
  std::string full = base_.toString();
  return full.substr(0, static_cast<std::size_t>(octets) * 3 - 1) + "/" + std::to_string(bits_);
}

}  // namespace netledger::addr
