#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

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

}  // namespace netledger
