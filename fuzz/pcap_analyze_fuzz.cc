// Fuzzes the capture analyzer (and the ledger comparison) on arbitrary frame sequences: never a
// crash; the counts add up; findings come sorted with consistent times and counts.
//
// Input: byte 0 picks the window (1-16 s) and flap threshold; then records of [length (1 byte),
// time step in ms (1 byte), frame bytes]. Every frame is also rebuilt as an ARP announcement
// of its first bytes now and then, so claims collide often enough to reach the findings.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "wire/capture_analyzer.h"
#include "wire/ledger_comparison.h"

using namespace netledger;
using namespace netledger::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  AnalyzerOptions options;
  options.window_us = (1 + (data[0] & 0x0f)) * 1'000'000ull;
  options.flap_changes = 1 + (data[0] >> 4) % 7;
  options.max_ips_per_mac = 2 + (data[0] >> 5);
  options.examples = data[0] % 5;
  CaptureAnalyzer analyzer(options);
  std::uint64_t t = 1'795'341'600'000'000ull;
  std::uint64_t frames = 0;
  std::size_t pos = 1;
  while (pos + 2 <= size) {
    std::size_t len = std::min<std::size_t>(data[pos], size - pos - 2);
    t += data[pos + 1] * 1000ull;
    const std::uint8_t* bytes = data + pos + 2;
    std::vector<std::uint8_t> frame(bytes, bytes + len);  // exact size for ASan
    analyzer.addFrame(frame, t);
    ++frames;
    if (len >= 2) {
      // A claim among 4 addresses and 4 MACs chosen by the frame's first bytes.
      addr::Mac mac(0x020000000000ull | (bytes[0] & 3));
      addr::Ipv4 ip(0xc0000200u | ((bytes[1] & 3) + 1));
      auto form = (bytes[0] & 4) ? AnnouncementForm::kReply : AnnouncementForm::kRequest;
      analyzer.addFrame((bytes[0] & 8) ? buildArpProbe(mac, ip).bytes()
                                       : buildArpAnnouncement(mac, ip, form).bytes(),
                        t);
      ++frames;
    }
    pos += 2 + len;
  }

  const FrameCounts& c = analyzer.counts();
  std::uint64_t sum = 0;
  for (auto n : c.by_kind) sum += n;
  for (auto n : c.by_error) sum += n;
  FUZZ_CHECK(c.frames == frames && sum == frames);

  auto findings = analyzer.findings();
  FUZZ_CHECK(std::is_sorted(findings.begin(), findings.end(), findingOrder));
  for (const auto& f : findings) {
    FUZZ_CHECK(f.count > 0 || f.kind == FindingKind::kNewStation);
    FUZZ_CHECK(f.first_us <= f.last_us);
    FUZZ_CHECK(!f.detail.empty());
    FUZZ_CHECK(f.severity == severityOf(f.kind));
    FUZZ_CHECK(f.stations.size() <= options.examples);
  }
  auto stations = analyzer.stations();
  std::uint64_t claimed = 0;
  for (const auto& s : stations) {
    FUZZ_CHECK(s.frames > 0 && s.first_us <= s.last_us);
    claimed += s.frames;
  }
  FUZZ_CHECK(claimed <= frames);

  LedgerView ledger;
  wire::LedgerPool lan;
  lan.name = "lan";
  lan.cidrs = {addr::Prefix::parse("192.0.2.0/24").value()};
  lan.gateway = addr::IpAddress::parse("192.0.2.1").value();
  ledger.pools.push_back(lan);
  wire::LedgerPool voice;  // a pool tied to a VLAN: segments are judged against it too
  voice.name = "voice";
  voice.cidrs = {addr::Prefix::parse("198.51.100.0/24").value()};
  voice.vlan = 7;
  ledger.pools.push_back(voice);
  ledger.bindings.push_back(
      {"1", "vm", addr::Mac(0x020000000001ull), {addr::IpAddress::parse("192.0.2.2").value()}});
  for (const auto& f : compareWithLedger(stations, ledger)) {
    FUZZ_CHECK(f.first_us <= f.last_us && f.count > 0);
    if (f.kind == wire::FindingKind::kRogueSegment) FUZZ_CHECK(!f.stations.empty());
  }
  return 0;
}
