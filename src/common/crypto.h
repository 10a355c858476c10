#pragma once
// Thin wrapper over OpenSSL: the only place its headers are included.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace netledger {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// HMAC-SHA256 (RFC 2104) of `data` under `key`; any key length, including empty.
Sha256Digest hmacSha256(std::string_view key, std::string_view data);
// The same as 64 lower-case hex digits (how webhook signatures travel).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

// Standard base64 (RFC 4648 §4, with padding), as etcd's JSON gateway carries keys and values.
std::string base64Encode(std::string_view raw);
// Strict: whole groups of four, padding only at the end; nullopt otherwise.
std::optional<std::string> base64Decode(std::string_view text);

// A fresh Idempotency-Key for one POST: 32 hex digits, unique (not secret).
std::string newIdempotencyKey();

// Lower-case hex of a byte string.
std::string toHex(std::span<const std::uint8_t> bytes);

// Fills `out` from OpenSSL's CSPRNG. Aborts if the CSPRNG cannot be seeded: handing out
// predictable "random" MACs silently would be worse than stopping.
void secureRandomBytes(std::span<std::uint8_t> out);

// Buffered CSPRNG: one RAND_bytes call per 4 KiB instead of one per value, which is what
// makes random MAC allocation cheap. Not thread-safe; use one per thread or under a lock.
class SecureRandom {
 public:
  std::uint64_t next64();

 private:
  std::array<std::uint8_t, 4096> buffer_{};
  std::size_t used_ = buffer_.size();
};

}  // namespace netledger
