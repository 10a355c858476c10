#include "common/crypto.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

namespace netledger {
namespace {

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// RFC 4231 §4: the HMAC-SHA-256 test vectors.
struct Rfc4231Case {
  const char* name;
  std::string key;
  std::string data;
  const char* expected;  // full 256-bit MAC (case 5 lists only its first 128 bits)
};

TEST(Base64Test, MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(base64Encode(raw), encoded);
    EXPECT_EQ(base64Decode(encoded), std::optional<std::string>(raw)) << encoded;
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int round = 0; round < 3; ++round) {
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    all.push_back('\0');
    EXPECT_EQ(base64Decode(base64Encode(all)), std::optional<std::string>(all));
  }
}

TEST(Base64Test, RefusesMalformedText) {
  for (const char* bad : {"Z", "Zm9", "Zm9v!", "Z===", "Zg=a", "=Zg=", "Zm 9v", "Zm9v\n"}) {
    EXPECT_EQ(base64Decode(bad), std::nullopt) << bad;
  }
}

TEST(HmacSha256Test, MatchesRfc4231Vectors) {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  const Rfc4231Case cases[] = {
      {"1", repeat('\x0b', 20), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2 (key shorter than the output)", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", repeat('\xaa', 20), repeat('\xdd', 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", key4, repeat('\xcd', 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6 (key larger than the block)", repeat('\xaa', 131),
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7 (key and data larger than the block)", repeat('\xaa', 131),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hmacSha256Hex(c.key, c.data), c.expected) << "RFC 4231 test case " << c.name;
  }
  // Case 5 is published truncated to 128 bits.
  EXPECT_TRUE(hmacSha256Hex(repeat('\x0c', 20), "Test With Truncation")
                  .starts_with("a3b6167473100ee06e0c796c2955552b"));
}

TEST(HmacSha256Test, BinaryAndHexFormsAgree) {
  Sha256Digest mac = hmacSha256("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(toHex(mac), hmacSha256Hex("Jefe", "what do ya want for nothing?"));
  EXPECT_EQ(mac[0], 0x5b);
  EXPECT_EQ(mac[31], 0x43);
}

TEST(HmacSha256Test, EmptyKeyAndDataAreValid) {
  // HMAC_SHA256("", "") — a well-known value; an empty secret must not crash or be rejected.
  EXPECT_EQ(hmacSha256Hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_NE(hmacSha256Hex("", "x"), hmacSha256Hex("", ""));
}

TEST(HmacSha256Test, EveryByteOfKeyAndDataMatters) {
  const std::string key = "webhook-secret";
  const std::string data = R"({"type":"binding.created","id":"1"})";
  const std::string base = hmacSha256Hex(key, data);
  EXPECT_EQ(base.size(), 64u);
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::string changed = data;
    changed[i] ^= 1;
    EXPECT_NE(hmacSha256Hex(key, changed), base) << "data byte " << i;
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    std::string changed = key;
    changed[i] ^= 1;
    EXPECT_NE(hmacSha256Hex(changed, data), base) << "key byte " << i;
  }
  // Embedded NUL bytes are data, not terminators.
  EXPECT_NE(hmacSha256Hex(key, std::string("a\0b", 3)), hmacSha256Hex(key, "a"));
}

TEST(HexTest, LowerCaseTwoDigitsPerByte) {
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(toHex(bytes), "000fa0ff");
  EXPECT_EQ(toHex({}), "");
}

}  // namespace
}  // namespace netledger
