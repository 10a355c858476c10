#pragma once
// Judges a capture on its own, like arpwatch but with more evidence: which MACs claim each IP
// (per VLAN), and findings with timestamps and counts:
//
//   duplicate_ip           a claim by MAC B while MAC A claimed the same IP at most `window`
//                          before: each such switch is counted (flip-flops included).
//   mac_flapping           more than `flap_changes` changes of an IP's MAC within `window`;
//                          count = the changes that completed such a burst.
//   dad_conflict           a probe (IPv6 DAD NS, or RFC 5227 ARP probe) for an address that
//                          another MAC has claimed in the capture, or a claim of the probed
//                          address by another MAC (a defence, or a second prober) within
//                          `window` after the probe. One count per probe.
//   arp_poisoning          per MAC: ARP replies that took an IP over from another MAC while
//                          being gratuitous (reply form) or unsolicited (nobody asked for that
//                          IP within `window`), and/or claims of more than `max_ips_per_mac`
//                          IPv4 addresses.
//   ethernet_arp_mismatch  per (Ethernet source, ARP sender hardware address) pair that differ.
//   new_station            one summary: how many (IP, MAC) pairs were first seen, and the first
//                          `examples` of them.
//
// A claim is what claimOf (frames.h) says. Time is the capture's, in microseconds; frames
// should come in capture order (a step back in time counts as no time passing).
//
// The hot path (add) allocates only when a new IP, pair or MAC is first seen (flat hash maps
// grow geometrically) or when a finding opens; findings() builds the report and may allocate.
// Not thread-safe.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "wire/finding.h"
#include "wire/frames.h"

namespace netledger::wire {

struct AnalyzerOptions {
  std::uint64_t window_us = 10'000'000;  // --window, seconds in the CLI
  std::uint32_t flap_changes = 3;        // "more than 3 changes in 10 s"; at most 7
  std::uint32_t max_ips_per_mac = 8;     // distinct IPv4 addresses one MAC may claim
  std::size_t examples = 10;             // new_station: pairs listed
};

// Frames read, by what they were.
struct FrameCounts {
  std::uint64_t frames = 0;
  std::array<std::uint64_t, kFrameKindCount> by_kind{};    // parsed ARP/NDP, by FrameKind
  std::array<std::uint64_t, kParseErrorCount> by_error{};  // [kNotArpOrNdp]: other traffic
};

class CaptureAnalyzer {
 public:
  explicit CaptureAnalyzer(AnalyzerOptions options = {});
  ~CaptureAnalyzer();
  // Movable; a moved-from analyzer may only be destroyed or assigned to.
  CaptureAnalyzer(CaptureAnalyzer&&) noexcept;
  CaptureAnalyzer& operator=(CaptureAnalyzer&&) noexcept;

  // Parses one frame seen at `time_us` and judges it. Returns what the parser said.
  ParseError addFrame(std::span<const std::uint8_t> bytes, std::uint64_t time_us);
  // Judges an already parsed frame (counted as one frame).
  void add(const Frame& frame, std::uint64_t time_us);

  const FrameCounts& counts() const;
  const AnalyzerOptions& options() const;

  // The findings so far, sorted by findingOrder. new_station is present once any pair was seen.
  std::vector<Finding> findings() const;
  // Every (IP, MAC) pair claimed so far, sorted by segment, IP, first sighting, MAC.
  std::vector<Station> stations() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace netledger::wire
