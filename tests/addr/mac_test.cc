#include "addr/mac.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "addr/addr_test_util.h"
#include "addr/ipv6.h"
#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::HasSubstr;

using testing_util::cidr;
using testing_util::expectFragmentAndPosition;
using testing_util::mac;
using testing_util::macPrefix;
using testing_util::mutate;
using testing_util::Rejection;

// ---------------------------------------------------------------------------------------------
// Mac parsing and formatting

TEST(MacTest, AcceptsAllFourFormsInAnyCase) {
  for (const char* text :
       {"00:1a:2b:3c:4d:5e", "00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "00-1A-2B-3C-4D-5E",
        "001a.2b3c.4d5e", "001A.2B3C.4D5E", "001a2b3c4d5e", "001A2B3C4D5E", "00:1a:2B:3c:4D:5e"}) {
    SCOPED_TRACE(text);
    auto r = Mac::parse(text);
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_EQ(r->value(), 0x001a2b3c4d5eull);
    EXPECT_EQ(r->toString(), "00:1a:2b:3c:4d:5e");
  }
}

TEST(MacTest, FormatAndOctets) {
  Mac m(0xfedcba987654ull);
  EXPECT_EQ(m.toString(), "fe:dc:ba:98:76:54");
  char buf[17];
  EXPECT_EQ(m.format(buf), 17u);
  EXPECT_EQ(std::string(buf, 17), "fe:dc:ba:98:76:54");
  EXPECT_EQ(m.octet(0), 0xfe);
  EXPECT_EQ(m.octet(1), 0xdc);
  EXPECT_EQ(m.octet(5), 0x54);
  EXPECT_EQ(Mac().toString(), "00:00:00:00:00:00");
  // The constructor keeps only 48 bits.
  EXPECT_EQ(Mac(0xffff001a2b3c4d5eull).value(), 0x001a2b3c4d5eull);
  EXPECT_LT(mac("00:00:00:00:00:01"), mac("00:00:00:00:01:00"));
  EXPECT_EQ(mac("AA:BB:CC:DD:EE:FF"), mac("aabb.ccdd.eeff"));
}

class MacRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(MacRejectionTest, RejectsWithInvalidArgument) {
  const Rejection& c = GetParam();
  auto r = Mac::parse(c.text);
  ASSERT_FALSE(r.isOk()) << "accepted \"" << c.text << "\" as " << r->toString();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr("invalid MAC address \"" + c.text + "\""));
  expectFragmentAndPosition(m, c);
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, MacRejectionTest,
    ::testing::Values(
        Rejection{"", "empty", -1},
        Rejection{"00:1a-2b:3c:4d:5e", "expected ':' (separators must not be mixed)", 5},
        Rejection{"00-1a-2b-3c-4d:5e", "expected '-' (separators must not be mixed)", 14},
        Rejection{"0:1a:2b:3c:4d:5e", "wrong length 16", -1},
        Rejection{"00:1a:2b:3c:4d:5e:6f", "wrong length 20", -1},
        Rejection{"00:1a:2b:3c:4d:5e ", "wrong length 18", -1},
        Rejection{"001a2b3c4d5", "wrong length 11", -1},
        Rejection{"00:1a:2b:3c:4d", "wrong length 14 for the aa:bb:cc:dd:ee:ff form", -1},
        Rejection{"00-1a-2b-3c-4d-5", "wrong length 16 for the aa-bb-cc-dd-ee-ff form", -1},
        Rejection{"001a.2b3c.4d5", "wrong length 13 for the aabb.ccdd.eeff form", -1},
        Rejection{"00:1a:2b:3c:4d:5g", "expected two hex digits per octet", 16},
        Rejection{"0g:1a:2b:3c:4d:5e", "expected two hex digits per octet", 1},
        Rejection{"00:1a:2b:3c:4d:+e", "expected two hex digits per octet", 15},
        Rejection{"00.1a.2b.3c.4d.5e", "wrong length 17 for the aabb.ccdd.eeff form", -1},
        Rejection{"001a2b3c4d5g", "expected a hex digit", 11},
        Rejection{"0x1a2b3c4d5e", "expected a hex digit", 1},
        Rejection{"001a.2b3c-4d5e", "expected '.'", 9},
        Rejection{"001a.2b3c.4d5z", "expected four hex digits per group", 13},
        Rejection{"00 1a 2b 3c 4d 5e", "wrong length 17 (expected aa:bb:cc:dd:ee:ff", -1},
        Rejection{"001a:2b3c:4d5e:ff", "expected ':' (separators must not be mixed)", 2}));

// ---------------------------------------------------------------------------------------------
// Mac properties

TEST(MacTest, MulticastAddress) {
  Mac m = mac("01:00:5e:00:00:01");  // IPv4 multicast 224.0.0.1 (RFC 1112)
  EXPECT_TRUE(m.isMulticast());
  EXPECT_FALSE(m.isUnicast());
  EXPECT_FALSE(m.isBroadcast());
  EXPECT_TRUE(m.isUniversal());
  EXPECT_FALSE(m.isLocallyAdministered());
  EXPECT_FALSE(m.isZero());
  EXPECT_EQ(m.oui(), 0x01005eu);
  EXPECT_EQ(m.ouiString(), "01:00:5e");
}

TEST(MacTest, BroadcastAddress) {
  Mac m = mac("ff:ff:ff:ff:ff:ff");
  EXPECT_TRUE(m.isBroadcast());
  EXPECT_TRUE(m.isMulticast());
  EXPECT_FALSE(m.isUnicast());
  EXPECT_TRUE(m.isLocallyAdministered());
  EXPECT_FALSE(m.isZero());
  EXPECT_FALSE(mac("ff:ff:ff:ff:ff:fe").isBroadcast());
}

TEST(MacTest, LocallyAdministeredUnicast) {
  Mac m = mac("02:00:00:00:00:01");
  EXPECT_TRUE(m.isUnicast());
  EXPECT_FALSE(m.isMulticast());
  EXPECT_TRUE(m.isLocallyAdministered());
  EXPECT_FALSE(m.isUniversal());
  EXPECT_FALSE(m.isBroadcast());
}

TEST(MacTest, UniversalUnicast) {
  Mac m = mac("00:1a:2b:3c:4d:5e");
  EXPECT_TRUE(m.isUnicast());
  EXPECT_FALSE(m.isMulticast());
  EXPECT_TRUE(m.isUniversal());
  EXPECT_FALSE(m.isLocallyAdministered());
  EXPECT_FALSE(m.isBroadcast());
  EXPECT_FALSE(m.isZero());
  EXPECT_EQ(m.oui(), 0x001a2bu);
  EXPECT_EQ(m.ouiString(), "00:1a:2b");
  EXPECT_TRUE(mac("00:00:00:00:00:00").isZero());
}

TEST(MacTest, HashSeparatesValues) {
  std::unordered_set<Mac, MacHash> set;
  set.insert(mac("00:1a:2b:3c:4d:5e"));
  set.insert(mac("00-1A-2B-3C-4D-5E"));
  set.insert(mac("00:1a:2b:3c:4d:5f"));
  EXPECT_EQ(set.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// RFC 4291 modified EUI-64 and SLAAC

TEST(MacTest, ModifiedEui64InvertsTheUniversalLocalBit) {
  Mac m = mac("00:1a:2b:3c:4d:5e");
  EXPECT_EQ(m.modifiedEui64(), 0x021a2bfffe3c4d5eull);
  EXPECT_EQ(m.modifiedEui64String(), "021a:2bff:fe3c:4d5e");

  // A locally administered MAC: the U/L bit flips back to 0.
  Mac local = mac("02:00:00:00:00:01");
  EXPECT_EQ(local.modifiedEui64(), 0x000000fffe000001ull);
  EXPECT_EQ(local.modifiedEui64String(), "0000:00ff:fe00:0001");

  // RFC 4291 appendix A: 34-56-78-9A-BC-DE -> 3656:78FF:FE9A:BCDE.
  EXPECT_EQ(mac("34-56-78-9A-BC-DE").modifiedEui64String(), "3656:78ff:fe9a:bcde");
  EXPECT_EQ(mac("ff:ff:ff:ff:ff:ff").modifiedEui64String(), "fdff:ffff:feff:ffff");
  EXPECT_EQ(mac("00:00:00:00:00:00").modifiedEui64String(), "0200:00ff:fe00:0000");
}

TEST(MacTest, SlaacAddressInASlash64) {
  auto a = slaacAddress(cidr("2001:db8::/64"), mac("00:1a:2b:3c:4d:5e"));
  ASSERT_TRUE(a.isOk()) << a.status().message();
  EXPECT_EQ(a->toString(), "2001:db8::21a:2bff:fe3c:4d5e");

  auto b = slaacAddress(cidr("2001:db8:1:2::/64"), mac("02:00:00:00:00:01"));
  ASSERT_TRUE(b.isOk()) << b.status().message();
  EXPECT_EQ(b->toString(), "2001:db8:1:2:0:ff:fe00:1");

  auto c = slaacAddress(cidr("fe80::/64"), mac("34:56:78:9a:bc:de"));
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->toString(), "fe80::3656:78ff:fe9a:bcde");
}

TEST(MacTest, SlaacRefusesOtherLengthsAndIpv4) {
  for (const char* text : {"2001:db8::/48", "2001:db8::/63", "2001:db8::/65", "2001:db8::/128",
                           "::/0", "10.0.0.0/24", "0.0.0.0/0", "10.0.0.0/32"}) {
    SCOPED_TRACE(text);
    auto r = slaacAddress(cidr(text), mac("00:1a:2b:3c:4d:5e"));
    ASSERT_FALSE(r.isOk()) << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(std::string("prefix ") + text));
    EXPECT_THAT(r.status().message(), HasSubstr("IPv6 /64"));
  }
}

// ---------------------------------------------------------------------------------------------
// Round trip property

TEST(MacTest, RoundTripPropertyInAllFourFormats) {
  std::mt19937_64 rng(4862);
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t v = rng() & 0xffffffffffffull;
    unsigned o[6];
    for (int k = 0; k < 6; ++k) o[k] = static_cast<unsigned>((v >> (40 - 8 * k)) & 0xff);
    char canonical[32], dashed_upper[32], cisco[32], cisco_upper[32], bare[32], bare_upper[32];
    std::snprintf(canonical, sizeof canonical, "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2],
                  o[3], o[4], o[5]);
    std::snprintf(dashed_upper, sizeof dashed_upper, "%02X-%02X-%02X-%02X-%02X-%02X", o[0], o[1],
                  o[2], o[3], o[4], o[5]);
    std::snprintf(cisco, sizeof cisco, "%02x%02x.%02x%02x.%02x%02x", o[0], o[1], o[2], o[3], o[4],
                  o[5]);
    std::snprintf(cisco_upper, sizeof cisco_upper, "%02X%02X.%02X%02X.%02X%02X", o[0], o[1], o[2],
                  o[3], o[4], o[5]);
    std::snprintf(bare, sizeof bare, "%02x%02x%02x%02x%02x%02x", o[0], o[1], o[2], o[3], o[4],
                  o[5]);
    std::snprintf(bare_upper, sizeof bare_upper, "%02X%02X%02X%02X%02X%02X", o[0], o[1], o[2], o[3],
                  o[4], o[5]);
    ASSERT_EQ(Mac(v).toString(), canonical);
    for (const char* text : {canonical, dashed_upper, cisco, cisco_upper, bare, bare_upper}) {
      auto r = Mac::parse(text);
      ASSERT_TRUE(r.isOk()) << text << ": " << r.status().message();
      ASSERT_EQ(r->value(), v) << text;
      ASSERT_EQ(r->toString(), canonical) << text;
    }
  }
}

// Reference grammar for the four forms, written independently of the parser.
bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool referenceValid(const std::string& t) {
  auto hexExcept = [&](std::initializer_list<std::size_t> seps, char sep) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      bool is_sep = false;
      for (std::size_t s : seps) is_sep = is_sep || s == i;
      if (is_sep ? t[i] != sep : !isHex(t[i])) return false;
    }
    return true;
  };
  switch (t.size()) {
    case 17:
      return hexExcept({2, 5, 8, 11, 14}, ':') || hexExcept({2, 5, 8, 11, 14}, '-');
    case 14:
      return hexExcept({4, 9}, '.');
    case 12:
      return hexExcept({}, ' ');
    default:
      return false;
  }
}

std::uint64_t referenceValue(const std::string& t) {
  std::uint64_t v = 0;
  for (char c : t) {
    if (!isHex(c)) continue;
    int h = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    v = (v << 4) | static_cast<std::uint64_t>(h);
  }
  return v;
}

TEST(MacTest, AgreesWithReferenceGrammarOnMutatedInputs) {
  std::mt19937_64 rng(2464);
  // The characters that matter to the MAC parser, for mutate().
  constexpr std::string_view kAlphabet = "0123456789abcdefABCDEFgG::--.. ";
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    Mac m(rng());
    std::string text = m.toString();
    switch (rng() % 4) {
      case 0:
        break;
      case 1:
        for (char& c : text) c = c == ':' ? '-' : c;
        break;
      case 2:
        text = text.substr(0, 2) + text.substr(3, 2) + "." + text.substr(6, 2) + text.substr(9, 2) +
               "." + text.substr(12, 2) + text.substr(15, 2);
        break;
      default: {
        std::string bare;
        for (char c : text) {
          if (c != ':') bare += c;
        }
        text = bare;
      }
    }
    int edits = static_cast<int>(rng() % 3);  // zero edits: the valid form itself
    text = mutate(std::move(text), rng, kAlphabet, edits);
    bool ok = referenceValid(text);
    auto r = Mac::parse(text);
    ASSERT_EQ(r.isOk(), ok) << "\"" << text << "\": " << (ok ? r.status().message() : "accepted");
    if (ok) {
      ++accepted;
      ASSERT_EQ(r->value(), referenceValue(text)) << text;
    } else {
      ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      ASSERT_THAT(r.status().message(), HasSubstr("invalid MAC address"));
    }
  }
  EXPECT_GT(accepted, 10000);
}

// ---------------------------------------------------------------------------------------------
// MacPrefix

TEST(MacPrefixTest, WholeOctetsGiveEightBitsEach) {
  MacPrefix p = macPrefix("52:54:00");
  EXPECT_EQ(p.bits(), 24);
  EXPECT_EQ(p.suffixBits(), 24);
  EXPECT_EQ(p.base(), mac("52:54:00:00:00:00"));
  EXPECT_EQ(p.size(), 16777216u);
  EXPECT_EQ(p.toString(), "52:54:00/24");
  // 0x52 has the U/L bit (0x02) set: QEMU's prefix is locally administered, not an IEEE OUI.
  EXPECT_FALSE(p.isOui());

  MacPrefix oui = macPrefix("00:1a:2b");
  EXPECT_EQ(oui.bits(), 24);
  EXPECT_TRUE(oui.isOui());
  EXPECT_EQ(oui.toString(), "00:1a:2b/24");

  EXPECT_EQ(macPrefix("02").bits(), 8);
  EXPECT_EQ(macPrefix("02").toString(), "02/8");
  EXPECT_EQ(macPrefix("02:00:00:00:00").bits(), 40);
  EXPECT_EQ(macPrefix("52-54-00").bits(), 24);
  EXPECT_EQ(macPrefix("52-54-00"), p);
  EXPECT_EQ(macPrefix("52:54:00:00:00:00/24"), p);
  EXPECT_EQ(macPrefix("52:54:00/24"), p);
  EXPECT_EQ(macPrefix("AC:DE:48"), macPrefix("ac:de:48"));
}

TEST(MacPrefixTest, ExplicitLengths) {
  MacPrefix p20 = macPrefix("02:00:00:00:00:00/20");
  EXPECT_EQ(p20.bits(), 20);
  EXPECT_EQ(p20.suffixBits(), 28);
  EXPECT_EQ(p20.size(), std::uint64_t{1} << 28);
  EXPECT_EQ(p20.toString(), "02:00:00/20");
  EXPECT_FALSE(p20.isOui());
  EXPECT_EQ(macPrefix("02:00:00/20"), p20);

  MacPrefix p28 = macPrefix("02:00:00/28");
  EXPECT_EQ(p28.bits(), 28);
  EXPECT_EQ(p28.size(), std::uint64_t{1} << 20);
  EXPECT_EQ(p28.base(), mac("02:00:00:00:00:00"));
  EXPECT_EQ(p28.toString(), "02:00:00:00/28");

  MacPrefix p44 = macPrefix("02:00:00:00:00:10/44");
  EXPECT_EQ(p44.bits(), 44);
  EXPECT_EQ(p44.size(), 16u);
  EXPECT_EQ(p44.toString(), "02:00:00:00:00:10/44");

  MacPrefix p8 = macPrefix("0a/8");
  EXPECT_EQ(p8.size(), std::uint64_t{1} << 40);
}

TEST(MacPrefixTest, RejectsLengthsOutOfRange) {
  for (const char* text : {"02:00:00/7", "02:00:00/45", "02:00:00:00:00:00/48", "02/0"}) {
    SCOPED_TRACE(text);
    auto r = MacPrefix::parse(text);
    ASSERT_FALSE(r.isOk()) << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("out of range 8..44"));
  }
  auto seven = MacPrefix::parse("02:00:00/7");
  ASSERT_FALSE(seven.isOk());
  EXPECT_THAT(seven.status().message(), HasSubstr("length 7"));
  auto big = MacPrefix::parse("02:00:00/45");
  ASSERT_FALSE(big.isOk());
  EXPECT_THAT(big.status().message(), HasSubstr("length 45"));
}

TEST(MacPrefixTest, RejectsNegativeLength) {
  // An explicit length must never be mistaken for "no length given".
  for (const char* text : {"52:54:00/-1", "52:54:00/-24", "02:00:00:00:00:00/-1"}) {
    SCOPED_TRACE(text);
    auto r = MacPrefix::parse(text);
    ASSERT_FALSE(r.isOk()) << "accepted as " << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  auto r = MacPrefix::parse("52:54:00/-1");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("length -1 is out of range 8..44"));
}

TEST(MacPrefixTest, RejectsBitsPastTheLengthWithHint) {
  auto r = MacPrefix::parse("52:54:00:12/24");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bits set past the prefix"));
  EXPECT_THAT(r.status().message(), HasSubstr("did you mean 52:54:00/24?"));

  auto half = MacPrefix::parse("02:00:00:08/28");
  ASSERT_FALSE(half.isOk());
  EXPECT_THAT(half.status().message(), HasSubstr("did you mean 02:00:00:00/28?"));

  auto low = MacPrefix::parse("02:00:00:00:00:01/20");
  ASSERT_FALSE(low.isOk());
  EXPECT_THAT(low.status().message(), HasSubstr("did you mean 02:00:00/20?"));

  // The bit just past a 20-bit length (0x08 of the third octet).
  auto edge = MacPrefix::parse("02:00:08/20");
  ASSERT_FALSE(edge.isOk());
  EXPECT_THAT(edge.status().message(), HasSubstr("did you mean 02:00:00/20?"));
  EXPECT_TRUE(MacPrefix::parse("02:00:10/20").isOk());
}

TEST(MacPrefixTest, RejectsMulticastPrefix) {
  for (const char* text : {"01:00:5e", "01:00:5e/24", "03:00:00", "ff:ff:ff"}) {
    SCOPED_TRACE(text);
    auto r = MacPrefix::parse(text);
    ASSERT_FALSE(r.isOk()) << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("multicast"));
  }
  auto made = MacPrefix::make(mac("01:00:5e:00:00:00"), 24);
  ASSERT_FALSE(made.isOk());
  EXPECT_THAT(made.status().message(), HasSubstr("multicast"));
}

TEST(MacPrefixTest, RejectsMalformedText) {
  struct Case {
    const char* text;
    const char* fragment;
  };
  for (const Case& c :
       {Case{"", "expected two hex digits"},
        Case{"02:00:00:00:00:00", "a full MAC is not a prefix"},
        Case{"52:54-00", "expected ':' between octets"}, Case{"52:54:0", "expected two hex digits"},
        Case{"52:54:", "expected two hex digits"}, Case{"52:5g:00", "expected a hex digit"},
        Case{"5254.00", "expected ':' between octets"},
        Case{"52:54:00:00:00:00:00/24", "more than 6 octets"},
        Case{"52:54:00/", "length must be a decimal number"},
        Case{"52:54:00/2a", "length must be a decimal number"},
        Case{"52:54:00/ 24", "length must be a decimal number"},
        Case{"/24", "expected two hex digits"}}) {
    SCOPED_TRACE(c.text);
    auto r = MacPrefix::parse(c.text);
    ASSERT_FALSE(r.isOk()) << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("invalid MAC prefix"));
    EXPECT_THAT(r.status().message(), HasSubstr(c.fragment));
  }
}

TEST(MacPrefixTest, MakeValidates) {
  auto ok = MacPrefix::make(mac("52:54:00:00:00:00"), 24);
  ASSERT_TRUE(ok.isOk()) << ok.status().message();
  EXPECT_EQ(ok->toString(), "52:54:00/24");
  EXPECT_FALSE(MacPrefix::make(mac("52:54:00:00:00:00"), 7).isOk());
  EXPECT_FALSE(MacPrefix::make(mac("52:54:00:00:00:00"), 45).isOk());
  EXPECT_FALSE(MacPrefix::make(mac("52:54:00:00:00:01"), 44).isOk());
  EXPECT_TRUE(MacPrefix::make(mac("52:54:00:00:00:10"), 44).isOk());
}

TEST(MacPrefixTest, ContainsAtAndSize) {
  MacPrefix p = macPrefix("52:54:00");
  EXPECT_TRUE(p.contains(mac("52:54:00:00:00:00")));
  EXPECT_TRUE(p.contains(mac("52:54:00:12:34:56")));
  EXPECT_TRUE(p.contains(mac("52:54:00:ff:ff:ff")));
  EXPECT_FALSE(p.contains(mac("52:54:01:00:00:00")));
  EXPECT_FALSE(p.contains(mac("52:53:ff:ff:ff:ff")));
  EXPECT_FALSE(p.contains(mac("00:1a:2b:3c:4d:5e")));
  EXPECT_EQ(p.at(0), mac("52:54:00:00:00:00"));
  EXPECT_EQ(p.at(0x123456), mac("52:54:00:12:34:56"));
  EXPECT_EQ(p.at(p.size() - 1), mac("52:54:00:ff:ff:ff"));
  // The suffix is reduced modulo the size: never leaves the prefix.
  EXPECT_EQ(p.at(p.size()), mac("52:54:00:00:00:00"));
  EXPECT_EQ(p.at(0x1000001), mac("52:54:00:00:00:01"));
  EXPECT_TRUE(p.contains(p.at(~std::uint64_t{0})));

  MacPrefix p20 = macPrefix("02:00:00:00:00:00/20");
  EXPECT_TRUE(p20.contains(mac("02:00:0f:ff:ff:ff")));
  EXPECT_FALSE(p20.contains(mac("02:00:10:00:00:00")));
  EXPECT_EQ(p20.at(p20.size() - 1), mac("02:00:0f:ff:ff:ff"));

  MacPrefix p44 = macPrefix("02:00:00:00:00:10/44");
  EXPECT_TRUE(p44.contains(mac("02:00:00:00:00:1f")));
  EXPECT_FALSE(p44.contains(mac("02:00:00:00:00:20")));
  EXPECT_FALSE(p44.contains(mac("02:00:00:00:00:0f")));
  EXPECT_EQ(p44.at(5), mac("02:00:00:00:00:15"));
}

TEST(MacPrefixTest, GeneratedMacsKeepThePrefixProperties) {
  std::mt19937_64 rng(2464);
  MacPrefix oui = macPrefix("00:1a:2b");
  MacPrefix local = macPrefix("02:00:00:00:00:00/20");
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t s = rng();
    Mac a = oui.at(s), b = local.at(s);
    ASSERT_TRUE(oui.contains(a));
    ASSERT_TRUE(a.isUnicast());
    ASSERT_TRUE(a.isUniversal());
    ASSERT_EQ(a.value() & 0xffffffull, s & 0xffffffull);
    ASSERT_TRUE(local.contains(b));
    ASSERT_TRUE(b.isUnicast());
    ASSERT_TRUE(b.isLocallyAdministered());
    ASSERT_EQ(b.value() & 0xfffffffull, s & 0xfffffffull);
  }
}

}  // namespace
}  // namespace netledger::addr
