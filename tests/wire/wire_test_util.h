// Helpers shared by the wire tests: literal addresses, frames written out byte by byte (hex),
// an ICMPv6 checksum computed independently of src/wire (16-bit words, as RFC 1071 states
// it), a scratch directory, and a capture written with PcapWriter.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "wire/frames.h"
#include "wire/pcap_file.h"

namespace netledger::wire::testing_util {

// The value `text` parses to; a test failure (and a zero value) when it does not parse.
template <typename T>
T parsed(std::string_view text) {
  auto r = T::parse(text);
  EXPECT_TRUE(r.isOk()) << text;
  return r.valueOr(T());
}
inline addr::Mac mac(std::string_view text) { return parsed<addr::Mac>(text); }
inline addr::Ipv4 v4(std::string_view text) { return parsed<addr::Ipv4>(text); }
inline addr::Ipv6 v6(std::string_view text) { return parsed<addr::Ipv6>(text); }
inline addr::IpAddress ip(std::string_view text) { return parsed<addr::IpAddress>(text); }

// "ff ff 00 01 ..." (any whitespace, pairs of hex digits) to bytes.
inline std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::string digits;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  EXPECT_EQ(digits.size() % 2, 0u) << text;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Recomputes the ICMPv6 checksum of an IPv6 frame whose IPv6 header starts at `l3`, 16 bits
// at a time (an implementation independent of src/wire's).
inline void fixIcmpv6Checksum(std::vector<std::uint8_t>& frame, std::size_t l3) {
  std::size_t len = (std::size_t{frame[l3 + 4]} << 8) | frame[l3 + 5];
  std::size_t icmp = l3 + 40;
  frame[icmp + 2] = frame[icmp + 3] = 0;
  std::uint32_t sum = 0;
  auto word = [&](std::size_t i) {
    std::uint32_t hi = frame[i];
    std::uint32_t lo = i + 1 < icmp + len ? frame[i + 1] : 0;
    return (hi << 8) | lo;
  };
  for (std::size_t i = l3 + 8; i < l3 + 40; i += 2) sum += word(i);
  sum += static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
  sum += 58;
  for (std::size_t i = icmp; i < icmp + len; i += 2) sum += word(i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  std::uint16_t checksum = static_cast<std::uint16_t>(~sum);
  frame[icmp + 2] = static_cast<std::uint8_t>(checksum >> 8);
  frame[icmp + 3] = static_cast<std::uint8_t>(checksum);
}

inline std::vector<std::uint8_t> toVector(const FrameBytes& f) {
  return {f.data.begin(), f.data.begin() + static_cast<std::ptrdiff_t>(f.size)};
}

// Parses a copy of `bytes` in a buffer of exactly its size, so ASan sees any read past the end.
inline ParseError parseExact(const std::vector<std::uint8_t>& bytes, Frame& out) {
  auto copy = std::make_unique<std::uint8_t[]>(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), copy.get());
  return parseFrame({copy.get(), bytes.size()}, out);
}

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "netledger-wire-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A capture being written: frames with their times in seconds from a fixed start.
class CaptureFile {
 public:
  // 2026-11-22T10:00:00Z: the start of every test capture.
  static constexpr std::uint64_t kStartUs = 1'795'341'600'000'000ull;

  explicit CaptureFile(std::string path) : path_(std::move(path)) {
    auto w = PcapWriter::create(path_);
    EXPECT_TRUE(w.isOk()) << w.status().message();
    if (w) writer_ = std::move(w).value();
  }
  void add(double seconds, const FrameBytes& frame) { add(seconds, frame.bytes()); }
  void add(double seconds, std::span<const std::uint8_t> bytes) {
    if (writer_) writer_->write(bytes, kStartUs + static_cast<std::uint64_t>(seconds * 1e6));
  }
  // Closes the file and returns its path.
  std::string close() {
    if (writer_) {
      EXPECT_TRUE(writer_->close().isOk());
    }
    writer_.reset();
    return path_;
  }

 private:
  std::string path_;
  std::unique_ptr<PcapWriter> writer_;
};

inline std::uint64_t at(double seconds) {
  return CaptureFile::kStartUs + static_cast<std::uint64_t>(seconds * 1e6);
}

}  // namespace netledger::wire::testing_util
