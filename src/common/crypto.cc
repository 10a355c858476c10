#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace netledger {

Sha256Digest sha256(std::string_view data) {
  Sha256Digest digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "fatal: OpenSSL SHA-256 failed\n");
    std::abort();
  }
  return digest;
}

Sha256Digest hmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest digest{};
  std::size_t len = 0;
  // EVP_Q_mac rejects a null key pointer even with length 0; an empty HMAC key is valid.
  static const unsigned char kEmpty = 0;
  const void* keyBytes = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, keyBytes, key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(),
                digest.size(), &len) == nullptr ||
      len != digest.size()) {
    std::fprintf(stderr, "fatal: OpenSSL HMAC-SHA256 failed\n");
    std::abort();
  }
  return digest;
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  return toHex(hmacSha256(key, data));
}

std::string toHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

void secureRandomBytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fprintf(stderr, "fatal: OpenSSL CSPRNG failed\n");
    std::abort();
  }
}

std::uint64_t SecureRandom::next64() {
  if (used_ + sizeof(std::uint64_t) > buffer_.size()) {
    secureRandomBytes(buffer_);
    used_ = 0;
  }
  std::uint64_t v;
  std::memcpy(&v, buffer_.data() + used_, sizeof v);
  used_ += sizeof v;
  return v;
}

std::string newIdempotencyKey() {
  // std::random_device (the kernel's getrandom) rather than OpenSSL's CSPRNG: a key needs to be
  // unique, not secret, and the CNI plugin would pay OpenSSL's start-up on every exec.
  std::random_device rd;
  std::array<std::uint8_t, 16> bytes;
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    std::uint32_t r = rd();
    for (std::size_t j = 0; j < 4; ++j) bytes[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
  return toHex(bytes);
}

std::string base64Encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (text.substr(0, text.size() - pad).find('=') != std::string_view::npos) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock counts padding as zero bytes: they are cut off again.
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace netledger
